"""Authentication at the HTTP edge: the app asks the verifier with aud = public base URL + path."""

from __future__ import annotations

import json
import time

import pytest

from cds_service.app import create_app
from cds_service.web.config import ConfigurationError
from tests.cds_service.security.jwt_helpers import ISSUER, bearer, generate_key, jwks, make_claims
from tests.conftest import FIXTURES, load_json

BASE = "https://cds.plan.example"
SIGN = "/cds-services/lenalidomide-order-sign"


@pytest.fixture
def key():
    return generate_key("ES384")


@pytest.fixture
def secured(make_app, key):
    return make_app(
        CDS_AUTH="required",
        CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(key)}),
        CDS_PUBLIC_BASE_URL=BASE,
    ).test_client()


def _request() -> dict:
    return load_json(FIXTURES / "sandbox-captured" / "capture-order-select-005.json")["request"] | {
        "hook": "order-sign"
    }


def test_signed_call_is_answered(secured, key):
    header = bearer(key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time())))
    body = _request()
    body["context"].pop("selections")
    response = secured.post(SIGN, json=body, headers={"Authorization": header})
    assert response.status_code == 200


@pytest.mark.parametrize("aud", [BASE + "/cds-services/lenalidomide-order-select", "http://localhost" + SIGN])
def test_token_for_another_endpoint_is_401_without_details(secured, key, aud):
    header = bearer(key.sign(make_claims(ISSUER, aud, now=time.time())))
    response = secured.post(SIGN, json=_request(), headers={"Authorization": header})
    assert response.status_code == 401
    assert response.data == b""


def test_required_auth_without_public_base_url_refuses_to_start(make_app, key):
    """Without it the aud would be checked against the Host header, which the caller chooses."""
    with pytest.raises(ConfigurationError, match=r"^CDS_AUTH=required but CDS_PUBLIC_BASE_URL is not set$"):
        make_app(CDS_AUTH="required", CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(key)}))


def test_a_token_for_another_service_is_refused_whatever_the_host_header(secured, key):
    other = "https://other-cds.example"
    header = bearer(key.sign(make_claims(ISSUER, other + SIGN, now=time.time())))
    response = secured.post(SIGN, json=_request(), headers={"Authorization": header, "Host": "other-cds.example"})
    assert response.status_code == 401


@pytest.mark.parametrize("lifetime", [3601, 10 * 365 * 24 * 3600])
def test_a_token_living_over_an_hour_is_401(secured, key, lifetime):
    header = bearer(key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time(), lifetime=lifetime)))
    response = secured.post(SIGN, json=_request(), headers={"Authorization": header})
    assert response.status_code == 401
    assert response.data == b""


def test_missing_token_is_401_before_any_validation(secured):
    response = secured.post(SIGN, data="not json")
    assert response.status_code == 401
    assert response.data == b""


def test_replayed_token_is_401(secured, key):
    header = bearer(key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time())))
    body = _request()
    body["context"].pop("selections")
    assert secured.post(SIGN, json=body, headers={"Authorization": header}).status_code == 200
    assert secured.post(SIGN, json=body, headers={"Authorization": header}).status_code == 401


def test_discovery_and_feedback_need_a_token_health_does_not(secured, key):
    assert secured.get("/cds-services").status_code == 401
    header = bearer(key.sign(make_claims(ISSUER, BASE + "/cds-services", now=time.time())))
    assert secured.get("/cds-services", headers={"Authorization": header}).status_code == 200
    feedback = {
        "feedback": [
            {
                "card": "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-23T10:00:00Z",
            }
        ]
    }
    assert secured.post(SIGN + "/feedback", json=feedback).status_code == 401
    header = bearer(key.sign(make_claims(ISSUER, BASE + SIGN + "/feedback", now=time.time())))
    assert secured.post(SIGN + "/feedback", json=feedback, headers={"Authorization": header}).status_code == 200
    [stored] = secured.application.extensions["cds_feedback_store"].for_card("3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b")
    assert stored["client_iss"] == ISSUER
    assert secured.get("/healthz").status_code == 200


def test_required_without_issuers_refuses_to_start(tmp_path):
    with pytest.raises(ConfigurationError) as err:
        create_app({"CDS_AUTH": "required", "CDS_TRUSTED_ISSUERS": None, "CDS_FEEDBACK_DB": str(tmp_path / "f.db")})
    assert "\n" not in str(err.value)
    assert "CDS_TRUSTED_ISSUERS" in str(err.value) or "issuer" in str(err.value).lower()


def test_disabled_auth_is_announced_in_the_log(make_app, caplog):
    with caplog.at_level("WARNING"):
        make_app(CDS_AUTH="disabled")
    assert any("CDS_AUTH=disabled" in record.getMessage() for record in caplog.records)


def test_a_token_replayed_to_another_instance_is_refused(make_app, key):
    """Two app instances on one database (two workers, or two hosts behind a balancer)."""
    issuers = json.dumps({ISSUER: jwks(key)})
    first, second = (
        make_app(CDS_AUTH="required", CDS_TRUSTED_ISSUERS=issuers, CDS_PUBLIC_BASE_URL=BASE).test_client()
        for _ in range(2)
    )
    header = bearer(key.sign(make_claims(ISSUER, BASE + "/cds-services", now=time.time())))
    assert first.get("/cds-services", headers={"Authorization": header}).status_code == 200
    assert second.get("/cds-services", headers={"Authorization": header}).status_code == 401
