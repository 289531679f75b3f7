"""A pretend DTR client of the /fhir endpoints: SMART Backend Services client assertions and tokens.

Typical use::

    key = generate_key("ES384")
    settings = {"CDS_DTR_CLIENTS": json.dumps({CLIENT_ID: {"jwks": jwks(key), "issuer": ISSUER}})}
    token = fetch_token(post_form, key, token_url=BASE + TOKEN_PATH)
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cds_service.security.backend_services import ASSERTION_TYPE, TOKEN_PATH
from tests.cds_service.security.jwt_helpers import SigningKey, make_claims

CLIENT_ID = "dtr-app-sunrise"
SCOPE = "system/Questionnaire.rs system/ValueSet.rs system/Library.rs"


def assertion(
    key: SigningKey, token_url: str, *, client_id: str = CLIENT_ID, now: float | None = None, **claims: Any
) -> str:
    """A client assertion as SMART Backend Services asks: iss = sub = client id, aud = the token URL."""
    now = time.time() if now is None else now
    claims = {"aud": token_url, "sub": client_id} | claims
    return key.sign(make_claims(client_id, claims.pop("aud"), now=now, **claims))


def token_form(signed: str, **fields: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
        "scope": SCOPE,
        **fields,
    }


def post_token(base: str, form: dict[str, str]) -> tuple[int, dict]:
    """POST the form to a live service's token endpoint; (status, JSON body)."""
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(base + TOKEN_PATH, data=data)  # urllib sends it form-encoded
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def live_token(base: str, key: SigningKey, public_base: str, *, client_id: str = CLIENT_ID) -> str:
    """An access token from a live service whose public base URL is ``public_base``."""
    status, body = post_token(base, token_form(assertion(key, public_base + TOKEN_PATH, client_id=client_id)))
    assert status == 200, body
    return body["access_token"]
