"""Suggestions that compose (CONTRACT.md, "Suggestions"), tested the way the CDS Hooks sandbox
applies them: every offered ``update`` replaces the whole draft, in card order and in reverse
order; the order is sent again; what the suggestions addressed is gone."""

from __future__ import annotations

import copy

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from tests.conftest import SAMPLES, load_json

FINDING = "lenalidomide-cds.finding"
REWRITES = {"generic-substitution", "dose-limit"}  # cards a rewrite makes disappear
REMS_STEPS = {"days-supply", "refills"}  # REMS steps a rewrite makes met


def post(client, body: dict) -> dict:
    response = client.post(f"/cds-services/lenalidomide-{body['hook']}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def actions(result: dict, kind: str) -> list[dict]:
    return [
        action
        for card in result["cards"]
        for suggestion in card.get("suggestions", ())
        for action in suggestion["actions"]
        if action["type"] == kind
    ]


def addressed(result: dict, ref: str) -> tuple[set[str], set[str]]:
    """The finding codes and REMS steps of ``ref`` that a rewrite of it addresses."""
    codes, steps = set(), set()
    for card in result["cards"]:
        finding = card["extension"][FINDING]
        if ref not in finding["orders"]:
            continue
        if finding["code"] in REWRITES:
            codes.add(finding["code"])
        if finding["code"] == "rems":
            steps |= {s["id"] for s in finding["steps"] if s["id"] in REMS_STEPS and s["status"] == "unmet"}
    return codes, steps


def replace_whole(body: dict, resource: dict) -> None:
    """As the sandbox applies an ``update``: the draft with the same type and id is replaced."""
    for entry in body["context"]["draftOrders"]["entry"]:
        old = entry["resource"]
        if (old["resourceType"], old["id"]) == (resource["resourceType"], resource["id"]):
            entry["resource"] = copy.deepcopy(resource)
            return
    raise AssertionError(f"no draft {resource['resourceType']}/{resource['id']}")


def with_suggestions() -> list[str]:
    return sorted(
        p.name
        for p in SAMPLES.glob("*.json")
        if not p.name.startswith("11-")  # needs the FHIR server
    )


@pytest.mark.parametrize("name", with_suggestions())
def test_every_update_applies_with_the_others_in_any_order(client, name):
    body = load_json(SAMPLES / name)
    first = post(client, body)
    updates = actions(first, "update")
    suggestions = [s for card in first["cards"] for s in card.get("suggestions", ())]
    if len(suggestions) < 2 and not updates:
        pytest.skip("nothing to compose")
    refs = [f"{u['resource']['resourceType']}/{u['resource']['id']}" for u in updates]
    assert len(refs) == len(set(refs)), f"{name}: two updates of one draft"
    deleted = {action["resourceId"] for action in actions(first, "delete")}
    assert not deleted & set(refs), f"{name}: a draft offered for deletion is offered a rewrite"
    for update in updates:
        MedicationRequest.model_validate(update["resource"])
    for ordered in (updates, updates[::-1]):
        again = copy.deepcopy(body)
        for update in ordered:
            replace_whole(again, update["resource"])
        second = post(client, again)
        for ref in refs:
            codes, steps = addressed(first, ref)
            assert codes or steps, f"{name}: an update of {ref} that addresses nothing"
            left_codes, left_steps = addressed(second, ref)
            assert not left_codes & codes, f"{name}: {left_codes & codes} still there after the update"
            assert not left_steps & steps, f"{name}: REMS steps {left_steps & steps} still unmet"


def test_one_labelled_update_applies_every_rewrite_and_the_other_cards_refer_to_it(client):
    body = load_json(SAMPLES / "14-brand-over-ceiling-long-supply.json")
    result = post(client, body)
    (update,) = actions(result, "update")
    cards = {card["extension"][FINDING]["code"]: card for card in result["cards"]}
    (suggestion,) = cards["generic-substitution"]["suggestions"]
    assert suggestion["label"] == "Rewrite: generic lenalidomide, 25 mg once daily, 28-day supply, no refills"
    for code in ("dose-limit", "rems"):
        assert "suggestions" not in cards[code]
        assert f"Accept “{suggestion['label']}” (on the Revlimid card)" in cards[code]["detail"]
    resource = update["resource"]
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "643720"  # generic 25 mg, not 15
    assert resource["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 1
    dispense = resource["dispenseRequest"]
    # 70 capsules twice daily = 35 days; once daily that is 35 capsules; cut to 28 days: 28.
    assert (dispense["quantity"]["value"], dispense["expectedSupplyDuration"]["value"]) == (28, 28)
    assert dispense["numberOfRepeatsAllowed"] == 0


def test_accepting_the_generic_alone_never_cuts_the_dose(client):
    """Brand at a dose within the ceiling: the only rewrite is the product; dose, schedule,
    quantity and supply stay as written."""
    body = load_json(SAMPLES / "04-brand-revlimid.json")
    (update,) = actions(post(client, body), "update")
    draft = next(
        e["resource"]
        for e in body["context"]["draftOrders"]["entry"]
        if e["resource"]["id"] == update["resource"]["id"]
    )
    changed = {key for key in set(draft) | set(update["resource"]) if draft.get(key) != update["resource"].get(key)}
    assert changed == {"medicationCodeableConcept"}


def test_a_pregnancy_offers_deletion_and_no_rewrite(client):
    body = load_json(SAMPLES / "25-rems-positive-pregnancy-test.json")
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    draft["dispenseRequest"]["numberOfRepeatsAllowed"] = 3  # the REMS card would rewrite it
    result = post(client, body)
    assert [a["resourceId"] for a in actions(result, "delete")] == [f"MedicationRequest/{draft['id']}"]
    assert actions(result, "update") == []


def test_feedback_on_the_combined_suggestion_is_recorded(client, app):
    result = post(client, load_json(SAMPLES / "14-brand-over-ceiling-long-supply.json"))
    card = next(c for c in result["cards"] if c.get("suggestions"))
    suggestion = card["suggestions"][0]
    entry = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion["uuid"]}],
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    response = client.post("/cds-services/lenalidomide-order-sign/feedback", json={"feedback": [entry]})
    assert response.status_code == 200 and response.get_json() == {"stored": 1}
    (stored,) = app.extensions["cds_feedback_store"].for_card(card["uuid"])
    assert stored["outcome"] == "accepted"
    assert stored["acceptedSuggestions"] == [{"id": suggestion["uuid"]}]
