"""SMART Backend Services against gunicorn, as production runs: two instances on one database
(two workers, or two hosts behind a balancer, share nothing else)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from cds_service.security.backend_services import TOKEN_PATH
from tests.cds_service.security.dtr_client import CLIENT_ID, assertion, post_token, token_form
from tests.cds_service.security.jwt_helpers import ISSUER, generate_key, jwks
from tests.live_server import running_service

PUBLIC = "https://cds.plan.example"
UNSERVED = "/fhir/ValueSet/no-such-value-set/_history"


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def key():
    return generate_key("ES384")


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory, key):
    tmp_path = tmp_path_factory.mktemp("backend-services")
    settings = {
        "CDS_AUTH": "required",
        "CDS_TRUSTED_ISSUERS": json.dumps({ISSUER: jwks(generate_key("ES384"))}),
        "CDS_PUBLIC_BASE_URL": PUBLIC,
        "CDS_DTR_CLIENTS": json.dumps({CLIENT_ID: {"jwks": jwks(key), "issuer": ISSUER}}),
        "WEB_CONCURRENCY": "2",
    }
    with running_service(tmp_path, **settings) as first, running_service(tmp_path, **settings) as second:
        yield first, second


def test_a_token_from_one_instance_is_accepted_by_the_other(two_instances, key):
    first, second = two_instances
    status, body = post_token(first, token_form(assertion(key, PUBLIC + TOKEN_PATH)))
    assert status == 200, body
    assert body["expires_in"] <= 300
    # A path nothing serves: 404 once authenticated (the gate runs before routing), 401 without.
    for base in (first, second, second, second):
        assert _get(base + UNSERVED, body["access_token"])[0] == 404


def test_without_a_token_fhir_is_401_without_details(two_instances):
    for base in two_instances:
        assert _get(base + UNSERVED) == (401, b"")
        assert _get(base + UNSERVED, "forged-token") == (401, b"")


def test_an_assertion_used_at_one_instance_is_refused_at_the_other(two_instances, key):
    first, second = two_instances
    form = token_form(assertion(key, PUBLIC + TOKEN_PATH))
    assert post_token(first, form)[0] == 200
    assert post_token(second, form) == (401, {"error": "invalid_client"})


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1_000_000_000},  # long expired
        {"aud": "http://127.0.0.1" + TOKEN_PATH},  # the internal address, not the public token URL
        {"lifetime": 360},  # six minutes ahead
    ],
)
def test_live_refusals_are_rfc_6749_invalid_client(two_instances, key, claims):
    status, body = post_token(two_instances[0], token_form(assertion(key, PUBLIC + TOKEN_PATH, **claims)))
    assert (status, body) == (401, {"error": "invalid_client"})


def test_discovery_names_the_public_token_endpoint(two_instances):
    status, body = _get(two_instances[1] + "/fhir/.well-known/smart-configuration")
    assert status == 200
    assert json.loads(body)["token_endpoint"] == PUBLIC + TOKEN_PATH
