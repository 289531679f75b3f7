"""Engine paths that the sample bundles do not show on their own."""

from __future__ import annotations

import copy

from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _with_external_medication(body: dict) -> dict:
    """The lenalidomide draft names its drug only as Medication/len-ext, prefetched with the record."""
    body = copy.deepcopy(body)
    for entry in body["context"]["draftOrders"]["entry"]:
        resource = entry["resource"]
        coding = (resource.get("medicationCodeableConcept") or {}).get("coding") or []
        if any(c.get("code") == "643720" for c in coding):
            del resource["medicationCodeableConcept"]
            resource["medicationReference"] = {"reference": "Medication/len-ext"}
    medication = {
        "resourceType": "Medication",
        "id": "len-ext",
        "code": {
            "coding": [{"system": RXNORM, "code": "643722", "display": "lenalidomide 25 MG Oral Capsule [Revlimid]"}]
        },
    }
    bundle = body["prefetch"]["medications"]
    bundle.setdefault("entry", []).append({"resource": medication, "search": {"mode": "include"}})
    return body


def test_draft_naming_a_prefetched_medication_is_recognised(client):
    body = _with_external_medication(load_json(SAMPLES / "01-mm-likely-approved.json"))
    result = client.post(SIGN, json=body).get_json()
    generic = findings(result, "generic-substitution")
    assert len(generic) == 1  # the prefetched Medication is Revlimid 25 mg
    resource = generic[0]["suggestions"][0]["actions"][0]["resource"]
    assert "medicationReference" not in resource
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "643720"
    assert len(findings(result, "pa-assessment")) == 1


def test_order_select_without_a_selected_lenalidomide_says_nothing(client):
    body = load_json(SAMPLES / "10-order-select-selections.json")
    lenalidomide = body["context"]["selections"][0]
    others = [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in body["context"]["draftOrders"]["entry"]
        if f"{e['resource']['resourceType']}/{e['resource']['id']}" != lenalidomide
    ]
    body["context"]["selections"] = others
    result = client.post("/cds-services/lenalidomide-order-select", json=body).get_json()
    assert result == {"cards": []}


def test_two_lenalidomide_orders_get_their_own_cards(client):
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    entries = body["context"]["draftOrders"]["entry"]
    original = next(e for e in entries if "643720" in str(e["resource"].get("medicationCodeableConcept")))
    twin = copy.deepcopy(original)
    twin["resource"]["id"] = "len-twin"
    twin["resource"]["medicationCodeableConcept"] = {
        "coding": [{"system": RXNORM, "code": "643722", "display": "lenalidomide 25 MG Oral Capsule [Revlimid]"}],
        "text": "lenalidomide 25 MG Oral Capsule [Revlimid]",
    }
    entries.append(twin)
    result = client.post(SIGN, json=body).get_json()
    orders = [c["extension"]["lenalidomide-cds.finding"]["orders"] for c in findings(result, "pa-assessment")]
    assert sorted(o[0] for o in orders) == sorted(
        [f"MedicationRequest/{original['resource']['id']}", "MedicationRequest/len-twin"]
    )
    assert [c["extension"]["lenalidomide-cds.finding"]["orders"] for c in findings(result, "generic-substitution")] == [
        ["MedicationRequest/len-twin"]
    ]
    assert len(result["systemActions"]) == 2
