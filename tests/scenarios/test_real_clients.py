"""What real clients sent is accepted: the sandbox's captured requests and the spec's examples."""

from __future__ import annotations

import uuid

import pytest
import responses

from tests.conftest import FIXTURES, findings, fixture_files, load_json

CAPTURES = fixture_files(FIXTURES / "sandbox-captured", "capture-*.json")
SPEC_EXAMPLES = fixture_files(FIXTURES / "spec-examples")
PATHS = {
    "order-select": "/cds-services/lenalidomide-order-select",
    "order-sign": "/cds-services/lenalidomide-order-sign",
}


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_sandbox_captures_are_accepted(client, path):
    request = load_json(path)["request"]
    # The capture's fhirServer (127.0.0.1:8090) is not running: every read fails to connect,
    # so the keys the sandbox left out become "unavailable", never an error.
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        response = client.post(PATHS[request["hook"]], json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    has_drug = any("medicationCodeableConcept" in e["resource"] for e in request["context"]["draftOrders"]["entry"])
    if not has_drug:
        assert body == {"cards": []}  # the sandbox's empty draft on page load
        return
    generic = findings(body, "generic-substitution")
    assert len(generic) == 1  # RxNorm 616114 is Revlimid 10 mg
    coding = generic[0]["suggestions"][0]["actions"][0]["resource"]["medicationCodeableConcept"]["coding"][0]
    assert coding["code"] == "602910"
    pa = findings(body, "pa-assessment")[0]["extension"]["lenalidomide-cds.finding"]
    # No multiple myeloma on record (the patient has diabetes): unknown, never a denial by default.
    assert pa["likelihood"] == "needs-documentation"
    assert pa["indication"] == "unknown"


@pytest.mark.parametrize("path", SPEC_EXAMPLES, ids=lambda p: p.name)
def test_spec_examples_are_accepted(client, path):
    context = load_json(path)["context"]
    hook = "order-select" if "selections" in context else "order-sign"
    request = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    response = client.post(PATHS[hook], json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"cards": []}  # no lenalidomide in these examples
