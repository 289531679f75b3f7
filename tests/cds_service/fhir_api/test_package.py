"""$questionnaire-package: parameters, 4xx for unknown or mismatched contexts, issuer scoping,
retention, the PackageBundle spelling; $log-questionnaire-errors stored."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters

from cds_service.fhir_api import routes
from cds_service.security.backend_services import DtrClient
from tests.conftest import FIXED_NOW, SAMPLES, load_json
from tests.scenarios.test_dtr_loop import coverage_information

BASE = "https://cds.example.org"
SIGN = "/cds-services/lenalidomide-order-sign"
PACKAGE = "/fhir/Questionnaire/$questionnaire-package"
LOG = "/fhir/Questionnaire/$log-questionnaire-errors"
REQUEST = load_json(SAMPLES / "02-mm-needs-documentation.json")
COVERAGE = next(e["resource"] for e in REQUEST["prefetch"]["coverage"]["entry"])
ORDER = REQUEST["context"]["draftOrders"]["entry"][0]["resource"]


def parameters(*pairs: tuple[str, object]) -> dict:
    out = []
    for name, value in pairs:
        if isinstance(value, dict):
            out.append({"name": name, "resource": value})
        else:
            out.append({"name": name, ("valueString" if name == "context" else "valueCanonical"): value})
    return {"resourceType": "Parameters", "parameter": out}


@pytest.fixture
def app(make_app):
    return make_app(CDS_PUBLIC_BASE_URL=BASE)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def signed(client) -> dict:
    """The coverage-information of the needs-documentation order, once signed."""
    return coverage_information(client.post(SIGN, json=REQUEST).get_json())


def package(response) -> tuple[dict, dict]:
    body = response.get_json()
    Parameters.model_validate(body)
    (bundle,) = [p["resource"] for p in body["parameter"] if p["name"] == "packagebundle"]
    Bundle.model_validate(bundle)
    return bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]


def test_the_package_has_the_questionnaire_first_and_one_draft_with_the_dtr_extensions(client, signed):
    body = parameters(("coverage", COVERAGE), ("context", signed["coverage-assertion-id"]))
    response = client.post(PACKAGE, json=body)
    assert response.status_code == 200
    body = response.get_json()
    (bundle,) = [p["resource"] for p in body["parameter"]]
    assert bundle["meta"]["profile"] == ["http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/DTR-QPackageBundle"]
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Questionnaire", "QuestionnaireResponse"]
    draft = bundle["entry"][1]["resource"]
    extensions = {ext["url"].rsplit("/", 1)[1]: ext for ext in draft["extension"]}
    assert extensions["qr-coverage"]["valueReference"] == {"reference": "Coverage/cov-02"}
    assert extensions["qr-context"]["valueReference"] == {"reference": "MedicationRequest/mr-02-len10"}
    assert extensions["intendedUse"]["valueCodeableConcept"]["coding"][0]["code"] == "withpa"


def test_the_package_bundle_spelling_of_dtr_2_0_clients_by_setting(make_app):
    client = make_app(CDS_PUBLIC_BASE_URL=BASE, CDS_DTR_PACKAGE_PARAMETER="PackageBundle").test_client()
    info = coverage_information(client.post(SIGN, json=REQUEST).get_json())
    body = client.post(PACKAGE, json=parameters(("coverage", COVERAGE), ("context", info["coverage-assertion-id"])))
    assert [p["name"] for p in body.get_json()["parameter"]] == ["PackageBundle"]


def test_without_context_the_draft_is_blank(client):
    response = client.post(PACKAGE, json=parameters(("coverage", COVERAGE), ("order", ORDER)))
    questionnaire, draft = package(response)
    assert "item" not in draft
    assert draft["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (parameters(("coverage", COVERAGE)), "Parameters.parameter"),  # dtr-1
        (parameters(("order", ORDER)), "Parameters.parameter"),  # no coverage
        (parameters(("coverage", COVERAGE), ("coverage", COVERAGE), ("order", ORDER)), "Parameters.parameter"),
        (parameters(("coverage", ORDER), ("order", ORDER)), "Parameters.parameter[0]"),
        ({"resourceType": "Bundle"}, "resourceType"),
    ],
)
def test_malformed_requests_are_400_naming_the_parameter(client, body, field):
    response = client.post(PACKAGE, json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [field]


def test_an_unknown_context_is_4xx_with_an_operation_outcome(client, signed):
    response = client.post(PACKAGE, json=parameters(("coverage", COVERAGE), ("context", "not-a-kept-judgement")))
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert response.get_json()["issue"][0]["expression"] == ["context"]


def test_a_coverage_that_does_not_match_the_context_is_refused(client, signed):
    other = {**copy.deepcopy(COVERAGE), "id": "cov-other"}
    response = client.post(PACKAGE, json=parameters(("coverage", other), ("context", signed["coverage-assertion-id"])))
    assert response.status_code == 422
    assert response.get_json()["issue"][0]["expression"] == ["coverage"]


def test_an_order_unrelated_to_the_context_is_refused(client, signed):
    other = {**copy.deepcopy(ORDER), "id": "mr-other"}
    body = parameters(("coverage", COVERAGE), ("order", other), ("context", signed["coverage-assertion-id"]))
    assert client.post(PACKAGE, json=body).status_code == 422


def test_a_dtr_client_sees_only_its_issuers_judgements(client, signed, monkeypatch):
    body = parameters(("coverage", COVERAGE), ("context", signed["coverage-assertion-id"]))
    # The order was signed with authentication off: kept under no issuer. A client acting for
    # an issuer, or for none, cannot read it.
    for issuer in ("https://other-ehr.example", None):
        monkeypatch.setattr(routes, "caller", lambda issuer=issuer: DtrClient("dtr-app", issuer))
        assert client.post(PACKAGE, json=body).status_code == 404


def test_a_context_past_its_retention_is_unknown(make_app):
    now = [FIXED_NOW]
    app = make_app(CDS_PUBLIC_BASE_URL=BASE, CDS_DTR_CONTEXT_DAYS=30, CLOCK=lambda: now[0])
    client = app.test_client()
    info = coverage_information(client.post(SIGN, json=REQUEST).get_json())
    body = parameters(("coverage", COVERAGE), ("context", info["coverage-assertion-id"]))
    now[0] = FIXED_NOW + timedelta(days=29)
    assert client.post(PACKAGE, json=body).status_code == 200
    now[0] = FIXED_NOW + timedelta(days=31)
    assert client.post(PACKAGE, json=body).status_code == 404


def test_a_foreign_questionnaire_gets_a_warning_and_no_package(client):
    body = parameters(("coverage", COVERAGE), ("questionnaire", "https://other.example/Questionnaire/x"))
    response = client.post(PACKAGE, json=body)
    assert response.status_code == 200
    (outcome,) = response.get_json()["parameter"]
    assert outcome["name"] == "outcome"
    assert outcome["resource"]["issue"][0]["severity"] == "warning"


def test_an_old_version_gets_the_current_one_with_a_warning(client):
    canonical = f"{BASE}/fhir/Questionnaire/cp-phar-71|2020-01-000000000000"
    response = client.post(PACKAGE, json=parameters(("coverage", COVERAGE), ("questionnaire", canonical)))
    names = [p["name"] for p in response.get_json()["parameter"]]
    assert names == ["packagebundle", "outcome"]


def test_questionnaire_errors_are_stored_without_the_rest_of_the_body(app, client):
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "questionnaire", "valueCanonical": f"{BASE}/fhir/Questionnaire/cp-phar-71|v"},
            {
                "name": "operationOutcome",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "text": {"status": "generated", "div": "<div>anything</div>"},
                    "issue": [
                        {"severity": "error", "code": "invalid", "diagnostics": "enableWhen target", "extra": "x"}
                    ],
                },
            },
        ],
    }
    response = client.post(LOG, json=body)
    assert response.status_code == 200
    (row,) = app.extensions["cds_dtr_store"].logged_errors()
    assert row["questionnaires"] == [f"{BASE}/fhir/Questionnaire/cp-phar-71|v"]
    assert row["issues"] == [{"severity": "error", "code": "invalid", "diagnostics": "enableWhen target"}]
    assert client.post(LOG, json={"resourceType": "Parameters", "parameter": []}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Parameters", "parameter": None},
        {"resourceType": "Parameters", "parameter": [None, 1, "x"]},
        {"resourceType": "Parameters", "parameter": [{"name": 5}]},
        parameters(("coverage", {"resourceType": "Coverage", "id": 7}), ("context", "x")),
        parameters(("coverage", {**COVERAGE, "beneficiary": "Patient/x"}), ("order", ORDER)),
        parameters(("coverage", {**COVERAGE, "id": "c" * 65}), ("order", ORDER)),
        parameters(("coverage", COVERAGE), ("context", "x" * 10_000)),
        parameters(("coverage", COVERAGE), ("order", {"resourceType": "Patient", "id": "p"})),
        {"resourceType": "Parameters", "parameter": [{"name": "coverage", "resource": COVERAGE}, {"name": "context"}]},
        {"resourceType": "Parameters", "parameter": [{"name": "changedsince", "valueInstant": "2026-01-01T00:00:00Z"}]},
    ],
)
def test_hostile_package_requests_are_4xx_never_5xx(client, body):
    response = client.post(PACKAGE, json=body)
    assert 400 <= response.status_code < 500
    assert response.get_json()["resourceType"] == "OperationOutcome"
    response = client.post(LOG, json=body)
    assert response.status_code in (200, 400)


def test_the_kept_judgement_holds_statuses_and_references_but_no_patient_id(app, signed):
    kept = app.extensions["cds_dtr_store"].find(signed["coverage-assertion-id"], None)
    assert kept.criteria["CP.PHAR.71 I.A.3"].status == "met"  # age, judged from the Patient
    assert kept.criteria["CP.PHAR.71 I.A.1"].evidence == ("Condition/cond-02-mm",)
    stored = repr(kept)
    assert "pat-02" not in stored and "Patient/" not in stored
    assert (kept.coverage_ref, kept.order_ref) == ("Coverage/cov-02", "MedicationRequest/mr-02-len10")
