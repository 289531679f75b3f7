"""SMART Backend Services for /fhir, in process: the token endpoint's answers and the /fhir gate."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import asdict

import jwt
import pytest

from cds_service.security.backend_services import (
    SMART_CONFIGURATION_PATH,
    TOKEN_PATH,
    granted_scopes,
    require_fhir_client,
)
from cds_service.web.config import ConfigurationError
from tests.cds_service.security.dtr_client import CLIENT_ID, assertion, token_form
from tests.cds_service.security.jwt_helpers import ISSUER, OMIT, b64url, generate_key, jwks, unsigned_parts

BASE = "https://cds.plan.example"
TOKEN_URL = BASE + TOKEN_PATH
WHOAMI = "/fhir/Questionnaire/_whoami"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def key():
    return generate_key("ES384")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def secured(make_app, key, clock):
    """A service with one DTR client acting for ISSUER, and a /fhir route that says who called."""
    app = make_app(
        CDS_AUTH="required",
        CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(generate_key("ES384"))}),
        CDS_PUBLIC_BASE_URL=BASE,
        CDS_DTR_CLIENTS=json.dumps({CLIENT_ID: {"jwks": jwks(key), "issuer": ISSUER}}),
        AUTH_CLOCK=clock,
    )
    app.add_url_rule(WHOAMI, "whoami", lambda: asdict(require_fhir_client()))
    return app.test_client()


def _token(client, signed: str, **fields: str):
    return client.post(TOKEN_PATH, data=token_form(signed, **fields))


def _claims_of(signed: str) -> dict:
    return jwt.decode(signed, options={"verify_signature": False})


def _refused(response, error: str = "invalid_client", status: int = 401) -> None:
    assert response.status_code == status
    assert response.json["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_assertion_gets_a_five_minute_token_naming_the_client_and_its_issuer(secured, key, clock):
    response = _token(secured, assertion(key, TOKEN_URL, now=clock.now))
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert set(body["scope"].split()) == {"system/Questionnaire.rs", "system/ValueSet.rs"}  # no Library served
    assert response.headers["Cache-Control"] == "no-store"
    called = secured.get(WHOAMI, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert called.status_code == 200
    assert called.json == {"client_id": CLIENT_ID, "issuer": ISSUER}


def test_an_rs384_client_is_accepted(make_app):
    rsa_key = generate_key("RS384")
    client = make_app(
        CDS_AUTH="disabled",
        CDS_PUBLIC_BASE_URL=BASE,
        CDS_DTR_CLIENTS=json.dumps({CLIENT_ID: jwks(rsa_key)}),
    ).test_client()
    assert _token(client, assertion(rsa_key, TOKEN_URL)).status_code == 200


def test_the_token_expires_after_five_minutes(secured, key, clock):
    access = _token(secured, assertion(key, TOKEN_URL, now=clock.now)).json["access_token"]
    header = {"Authorization": f"Bearer {access}"}
    clock.now += 299
    assert secured.get(WHOAMI, headers=header).status_code == 200
    clock.now += 2
    response = secured.get(WHOAMI, headers=header)
    assert response.status_code == 401
    assert response.data == b""


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-token-we-issued", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 600],
)
def test_a_fhir_call_without_a_valid_token_is_401_without_details(secured, header):
    headers = {"Authorization": header} if header else {}
    for path in (WHOAMI, "/fhir/Questionnaire/anything", "/fhir/no-such-thing", "/fhir"):
        response = secured.post(path, headers=headers) if path == "/fhir" else secured.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.data == b""
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_cds_hooks_jwt_is_not_a_fhir_token(secured):
    hooks_key = generate_key("ES384")
    signed = hooks_key.sign({"iss": ISSUER, "aud": BASE + WHOAMI, "exp": int(time.time()) + 60, "jti": "j"})
    assert secured.get(WHOAMI, headers={"Authorization": f"Bearer {signed}"}).status_code == 401


def test_discovery_and_the_token_endpoint_need_no_token(secured):
    config = secured.get(SMART_CONFIGURATION_PATH)
    assert config.status_code == 200
    assert config.json["token_endpoint"] == TOKEN_URL
    assert config.json["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert set(config.json["token_endpoint_auth_signing_alg_values_supported"]) == {"ES384", "RS384"}
    assert "client-confidential-asymmetric" in config.json["capabilities"]
    assert config.json["grant_types_supported"] == ["client_credentials"]
    assert secured.get("/fhir/metadata").status_code != 401


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"lifetime": -120}, "expired beyond the leeway"),
        ({"aud": BASE + "/fhir"}, "aud is not the token endpoint"),
        ({"aud": "http://localhost" + TOKEN_PATH}, "aud is the internal URL, not the public one"),
        ({"lifetime": 360}, "exp six minutes ahead"),
        ({"sub": "someone-else"}, "sub is not the client id"),
        ({"sub": OMIT}, "no sub"),
        ({"jti": OMIT}, "no jti"),
        ({"exp": OMIT}, "no exp"),
        ({"jti": ""}, "empty jti"),
        ({"jti": "x" * 256}, "jti too long"),
    ],
)
def test_an_assertion_failing_a_check_is_invalid_client(secured, key, claims, why):
    _refused(_token(secured, assertion(key, TOKEN_URL, **claims)))


def test_an_exp_five_minutes_ahead_is_accepted(secured, key):
    assert _token(secured, assertion(key, TOKEN_URL, exp=int(time.time()) + 300)).status_code == 200


def test_an_unknown_client_is_invalid_client(secured):
    stranger = generate_key("ES384")
    _refused(_token(secured, assertion(stranger, TOKEN_URL, client_id="stranger")))


def test_a_registered_client_id_signed_with_another_key_is_invalid_client(secured, key):
    forger = generate_key("ES384", kid=key.kid)
    _refused(_token(secured, assertion(forger, TOKEN_URL)))


def test_hs256_signed_with_the_public_key_is_invalid_client(secured, key):
    """The classic confusion attack: HMAC with the client's public key as the shared secret."""
    claims = _claims_of(assertion(key, TOKEN_URL))
    signing_input = unsigned_parts({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims)
    signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    _refused(_token(secured, signing_input + "." + b64url(signature)))


def test_alg_none_is_invalid_client(secured, key):
    claims = _claims_of(assertion(key, TOKEN_URL))
    _refused(_token(secured, unsigned_parts({"alg": "none", "kid": key.kid}, claims) + "."))


def test_a_replayed_jti_is_refused_even_in_a_new_assertion(secured, key):
    jti = str(uuid.uuid4())
    assert _token(secured, assertion(key, TOKEN_URL, jti=jti)).status_code == 200
    _refused(_token(secured, assertion(key, TOKEN_URL, jti=jti)))


def test_a_refused_assertion_does_not_use_up_its_jti(secured, key):
    jti = str(uuid.uuid4())
    _refused(_token(secured, assertion(key, TOKEN_URL, jti=jti, aud="https://elsewhere.example/token")))
    assert _token(secured, assertion(key, TOKEN_URL, jti=jti)).status_code == 200


@pytest.mark.parametrize(
    ("form", "error", "status"),
    [
        ({"grant_type": "authorization_code"}, "unsupported_grant_type", 400),
        ({"grant_type": ""}, "invalid_request", 400),
        ({"client_assertion_type": "urn:example:other"}, "invalid_client", 401),
        ({"client_assertion": ""}, "invalid_request", 400),
        ({"scope": ""}, "invalid_scope", 400),
        ({"scope": "patient/*.read user/Questionnaire.read"}, "invalid_scope", 400),
        ({"scope": "system/Patient.read"}, "invalid_scope", 400),
        ({"scope": "system/Questionnaire.write"}, "invalid_scope", 400),
        ({"client_id": "another-client"}, "invalid_client", 401),
    ],
)
def test_protocol_errors_are_rfc_6749_json(secured, key, form, error, status):
    _refused(_token(secured, assertion(key, TOKEN_URL), **form), error, status)


def test_a_json_body_or_a_repeated_parameter_is_invalid_request(secured, key):
    _refused(secured.post(TOKEN_PATH, json=token_form(assertion(key, TOKEN_URL))), "invalid_request", 400)
    form = token_form(assertion(key, TOKEN_URL))
    repeated = "&".join(f"{name}={value}" for name, value in form.items()) + "&scope=system/ValueSet.rs"
    response = secured.post(TOKEN_PATH, data=repeated, content_type="application/x-www-form-urlencoded")
    _refused(response, "invalid_request", 400)


def test_a_token_reads_only_the_types_its_scope_names(secured, key):
    body = _token(secured, assertion(key, TOKEN_URL), scope="system/ValueSet.read").json
    assert body["scope"] == "system/ValueSet.read"
    response = secured.get(WHOAMI, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 403
    assert response.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        ("system/*.read", ["system/*.read"]),
        ("system/Questionnaire.cruds system/ValueSet.s", ["system/Questionnaire.cruds", "system/ValueSet.s"]),
        ("system/Questionnaire.rs system/Questionnaire.rs", ["system/Questionnaire.rs"]),
        ("system/Questionnaire.rs?status=active system/Questionnaire.c system/Questionnaire.sr", []),
        ("openid fhirUser launch", []),
    ],
)
def test_smart_v1_and_v2_system_scopes_that_read(requested, granted):
    assert granted_scopes(requested) == granted


def test_neither_the_assertion_nor_the_token_is_logged(secured, key, caplog):
    signed = assertion(key, TOKEN_URL)
    access = _token(secured, signed).json["access_token"]
    secured.get(WHOAMI, headers={"Authorization": f"Bearer {access}"})
    _token(secured, signed)  # a replay: refused and logged
    secured.get(WHOAMI, headers={"Authorization": f"Bearer {access}x"})
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert signed.split(".")[2] not in logged
    assert access not in logged


def test_with_auth_disabled_fhir_is_open(make_app):
    app = make_app(CDS_AUTH="disabled")
    app.add_url_rule(WHOAMI, "whoami", lambda: {"client": require_fhir_client()})
    response = app.test_client().get(WHOAMI)
    assert response.status_code == 200
    assert response.json == {"client": None}


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '["a list"]',
        '{"": {"keys": []}}',
        '{"c": 5}',
        '{"c": {"jwks": "https://keys.example/jwks", "issuer": ""}}',
        '{"c": {"jwks": "https://keys.example/jwks", "role": "admin"}}',
        '{"c": {"issuer": "https://ehr.example"}}',
        '{"c": "http://keys.example/jwks"}',
        '{"c": "/no/such/jwks.json"}',
        '{"c": {"keys": []}}',
    ],
)
def test_a_malformed_client_list_refuses_to_start(make_app, value):
    with pytest.raises(ConfigurationError) as refused:
        make_app(
            CDS_AUTH="required",
            CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(generate_key())}),
            CDS_PUBLIC_BASE_URL=BASE,
            CDS_DTR_CLIENTS=value,
        )
    assert "CDS_DTR_CLIENTS" in str(refused.value)


def test_a_client_jwks_may_be_a_file_or_a_url(make_app, tmp_path, key):
    path = tmp_path / "client-jwks.json"
    path.write_text(json.dumps(jwks(key)))
    client = make_app(
        CDS_PUBLIC_BASE_URL=BASE,
        CDS_DTR_CLIENTS=json.dumps({CLIENT_ID: str(path), "other": "https://keys.example/jwks.json"}),
    ).test_client()
    assert _token(client, assertion(key, TOKEN_URL)).status_code == 200
