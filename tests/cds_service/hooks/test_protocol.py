"""The contract's edge: discovery, errors with OperationOutcome, CORS, health."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import FIXTURES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
SELECT = "/cds-services/lenalidomide-order-select"


def _sign_request() -> dict:
    return copy.deepcopy(load_json(FIXTURES / "sandbox-captured" / "capture-order-sign-007.json")["request"])


def _outcome(response) -> dict:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    return body["issue"][0]


def test_discovery_lists_both_services_with_prefetch(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.get_json()["services"]}
    assert services["lenalidomide-order-select"]["hook"] == "order-select"
    assert services["lenalidomide-order-sign"]["hook"] == "order-sign"
    for service in services.values():
        assert service["title"] and service["description"] and service["usageRequirements"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["coverage"].startswith("Coverage?patient={{context.patientId}}&status=active")
        assert prefetch["conditions"].startswith("Condition?patient=")
        assert "category=laboratory" in prefetch["observations"]
        assert prefetch["medications"].startswith("MedicationRequest?patient=")
        assert prefetch["practitioner"] == "{{context.userId}}"
        assert "{{userPractitionerId}}" in prefetch["practitionerRoles"]
        assert prefetch["procedures"].startswith("Procedure?patient=")


def test_unknown_service_is_404_with_outcome(client):
    response = client.post("/cds-services/nope", json=_sign_request())
    assert response.status_code == 404
    assert _outcome(response)["code"] == "not-found"


def test_not_json_is_400(client):
    response = client.post(SIGN, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in _outcome(response)["diagnostics"]


def test_json_array_is_400(client):
    response = client.post(SIGN, json=[1, 2])
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["hook", "hookInstance", "context"])
def test_missing_required_field_is_400_naming_it(client, field):
    body = _sign_request()
    del body[field]
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    issue = _outcome(response)
    assert field in issue["expression"]
    assert field in issue["diagnostics"]


def test_wrong_hook_for_service_is_400(client):
    body = _sign_request()
    response = client.post(SELECT, json=body)
    assert response.status_code == 400
    assert _outcome(response)["expression"] == ["hook"]


def test_order_select_needs_selections(client):
    body = _sign_request()
    body["hook"] = "order-select"
    response = client.post(SELECT, json=body)
    assert response.status_code == 400
    assert "context.selections" in _outcome(response)["expression"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patientId", 42),
        ("userId", None),
        ("draftOrders", "bundle"),
        ("draftOrders", {"resourceType": "Patient"}),
    ],
)
def test_context_field_of_wrong_type_is_400(client, field, value):
    body = _sign_request()
    body["context"][field] = value
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    assert f"context.{field}" in _outcome(response)["expression"]


def test_fhir_authorization_without_fhir_server_is_400(client):
    body = _sign_request()
    del body["fhirServer"]
    body["fhirAuthorization"] = {
        "access_token": "x",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read",
        "subject": "svc",
    }
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    assert "fhirServer" in _outcome(response)["expression"]


def test_body_over_limit_is_413(make_app):
    client = make_app(CDS_MAX_BODY_BYTES=2048).test_client()
    response = client.post(SIGN, json=_sign_request())
    assert response.status_code == 413
    assert _outcome(response)["code"] == "too-costly"


def test_error_answers_never_leak_a_stack_trace(client):
    response = client.post(SIGN, data=b"\xff\xfe", content_type="application/json")
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_cors_preflight_is_answered_without_auth(make_app):
    client = make_app(CDS_AUTH="disabled").test_client()
    for path in ("/cds-services", SIGN, SIGN + "/feedback", "/healthz"):
        response = client.options(
            path,
            headers={
                "Origin": "https://sandbox.cds-hooks.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://sandbox.cds-hooks.org")
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_cors_headers_on_actual_response(client):
    response = client.get("/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org"})
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", "https://sandbox.cds-hooks.org")


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_body_nesting_too_deep_is_400(client):
    body = _sign_request()
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["a"] = {}
        node = node["a"]
    body["extension"] = {"x": deep}
    response = client.post(SIGN, json=body)
    assert response.status_code == 400
    assert "deeper than 64" in _outcome(response)["diagnostics"]


def test_absurdly_deep_json_is_400_not_500(client):
    response = client.post(SIGN, data="[" * 200000 + "]" * 200000, content_type="application/json")
    assert response.status_code == 400


def test_too_many_prefetch_resources_is_413(make_app):
    client = make_app(CDS_MAX_PREFETCH_RESOURCES=3).test_client()
    body = _sign_request()
    response = client.post(SIGN, json=body)
    assert response.status_code == 413
    assert _outcome(response)["expression"] == ["prefetch"]


def test_openapi_document_is_served_and_generated_from_the_schemas(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    request = document["components"]["schemas"]["HookRequest"]
    assert set(request["required"]) == {"hook", "hookInstance", "context"}
    assert "selections" in document["components"]["schemas"]["OrderSelectContext"]["required"]
    assert "selections" not in document["components"]["schemas"]["OrderSignContext"]["properties"]
