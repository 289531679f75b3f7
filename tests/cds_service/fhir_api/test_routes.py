"""GET /fhir/metadata, /fhir/Questionnaire/{id} and ?url= search; /fhir is never open under CDS_AUTH=required."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from cds_service.fhir_api.questionnaire import policy_version
from cds_service.rules.policy import load_policy
from tests.cds_service.security.jwt_helpers import ISSUER, generate_key, jwks

BASE = "https://cds.example.org"
CANONICAL = f"{BASE}/fhir/Questionnaire/cp-phar-71"


@pytest.fixture
def fhir(make_app):
    return make_app(CDS_PUBLIC_BASE_URL=BASE).test_client()


def test_metadata_names_what_is_served_and_why_there_is_no_cql(fhir):
    response = fhir.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    statement = response.get_json()
    CapabilityStatement.model_validate(statement)
    rest = statement["rest"][0]
    assert "CQL-to-ELM" in rest["documentation"] and "pre-population is done by the payer" in rest["documentation"]
    (questionnaire,) = rest["resource"]
    assert questionnaire["type"] == "Questionnaire"
    assert {op["name"] for op in questionnaire["operation"]} == {"questionnaire-package", "log-questionnaire-errors"}
    assert statement["implementation"]["url"] == f"{BASE}/fhir"


def test_read_the_questionnaire_by_id(fhir):
    response = fhir.get("/fhir/Questionnaire/cp-phar-71")
    assert response.status_code == 200
    body = response.get_json()
    assert body["url"] == CANONICAL
    assert body["version"] == policy_version(load_policy())
    assert body["publisher"] == "Sunrise Health Plan"


def test_unknown_questionnaire_is_404_with_an_operation_outcome(fhir):
    response = fhir.get("/fhir/Questionnaire/other")
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("url", "total"),
    [
        (CANONICAL, 1),
        (f"{CANONICAL}|{policy_version(load_policy())}", 1),
        (f"{CANONICAL}|2020-01-000000000000", 0),
        ("https://elsewhere.example/fhir/Questionnaire/cp-phar-71", 0),
    ],
)
def test_search_by_url_is_a_searchset(fhir, url, total):
    response = fhir.get("/fhir/Questionnaire", query_string={"url": url})
    assert response.status_code == 200
    bundle = response.get_json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == total == len(bundle["entry"])
    if total:
        assert bundle["entry"][0]["resource"]["url"] == CANONICAL


def test_protected_endpoints_refuse_without_a_token_when_auth_is_required(make_app):
    app = make_app(
        CDS_AUTH="required",
        CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(generate_key())}),
        CDS_PUBLIC_BASE_URL=BASE,
    )
    client = app.test_client()
    assert client.get("/fhir/metadata").status_code == 200
    for path in ("/fhir/Questionnaire/cp-phar-71", f"/fhir/Questionnaire?url={CANONICAL}"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.data == b""
        response = client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert response.status_code == 401
    for path in ("/fhir/Questionnaire/$questionnaire-package", "/fhir/Questionnaire/$log-questionnaire-errors"):
        response = client.post(path, json={"resourceType": "Parameters", "parameter": []})
        assert response.status_code == 401
        assert response.data == b""
