"""Da Vinci CRD 2.2 configuration: discovery advertises the options; requests honour them."""

from __future__ import annotations

import copy

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.cards.common import TOPICS
from cds_service.crd.configuration import configuration_options, filter_cards
from cds_service.crd.coverage_information import EXTENSION_URL
from tests.cds_service.crd.test_coverage_information import _parts, check_crd_invariants
from tests.conftest import SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
SELECT = "/cds-services/lenalidomide-order-select"
FINDING = "lenalidomide-cds.finding"


def call(client, name: str, config: dict | None = None) -> dict:
    body = copy.deepcopy(load_json(SAMPLES / name))
    if config is not None:
        body["extension"] = {"davinci-crd.configuration": config}
    response = client.post(SELECT if body["hook"] == "order-select" else SIGN, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def codes(result: dict) -> list[str]:
    return [card["extension"][FINDING]["code"] for card in result["cards"]]


def test_discovery_advertises_crd_version_and_options(client):
    services = {s["hook"]: s for s in client.get("/cds-services").get_json()["services"]}
    for hook, default in (("order-sign", True), ("order-select", False)):
        extension = services[hook]["extension"]
        assert extension["davinci-crd.version"] == ["2.2"]
        options = extension["davinci-crd.configuration-options"]
        by_code = {o["code"]: o for o in options}
        assert len(by_code) == len(options)  # unique codes (dev-4)
        assert len({o["name"] for o in options}) == len(options)
        assert by_code["coverage-info"] == {**by_code["coverage-info"], "type": "boolean", "default": default}
        assert by_code["max-cards"]["type"] == "integer" and by_code["max-cards"]["default"] == 10
        assert set(TOPICS.values()) <= set(by_code)  # a boolean per card topic we return (dev-5)
        assert all({"code", "type", "name", "description", "default"} <= set(o) for o in options)


def test_order_select_returns_no_action_unless_asked(client):
    assert "systemActions" not in call(client, "10-order-select-selections.json")
    assert "systemActions" not in call(client, "10-order-select-selections.json", {"coverage-info": False})


def test_order_select_asked_returns_an_action_without_doc_needed(client):
    result = call(client, "10-order-select-selections.json", {"coverage-info": True})
    [action] = result["systemActions"]
    MedicationRequest.model_validate(action["resource"])
    extension = next(e for e in action["resource"]["extension"] if e["url"] == EXTENSION_URL)
    parts = _parts(extension)
    check_crd_invariants(parts)
    assert "doc-needed" not in parts and "doc-purpose" not in parts  # hook-19
    assert "pa-assessment" in codes(result)


def test_order_select_needs_documentation_still_meets_the_invariants(client):
    body = copy.deepcopy(load_json(SAMPLES / "10-order-select-selections.json"))
    body["extension"] = {"davinci-crd.configuration": {"coverage-info": True}}
    # drop the dexamethasone draft: I.A.4 becomes unknown, the answer conditional
    body["context"]["draftOrders"]["entry"] = [
        e for e in body["context"]["draftOrders"]["entry"] if "dexamethasone" not in str(e).lower()
    ]
    result = client.post(SELECT, json=body).get_json()
    parts = _parts(next(e for e in result["systemActions"][0]["resource"]["extension"] if e["url"] == EXTENSION_URL))
    check_crd_invariants(parts)
    assert parts["covered"] == ["conditional"] and parts["info-needed"] == ["OTH"]
    assert "doc-needed" not in parts


def test_order_sign_coverage_info_false_drops_the_action_and_the_pa_card(client):
    result = call(client, "01-mm-likely-approved.json", {"coverage-info": False})
    assert "systemActions" not in result
    assert "pa-assessment" not in codes(result)


def test_a_topic_switched_off_drops_its_cards(client):
    result = call(client, "05-over-ceiling.json", {"limits": False})
    assert "dose-limit" not in codes(result) and "pa-assessment" in codes(result)
    assert "systemActions" in result


def test_max_cards_keeps_the_most_severe(client):
    full = call(client, "03-mm-likely-denied-thalidomide.json")
    result = call(client, "03-mm-likely-denied-thalidomide.json", {"max-cards": 1})
    assert len(full["cards"]) > 1 and len(result["cards"]) == 1
    severity = {"critical": 0, "warning": 1, "info": 2}
    assert severity[result["cards"][0]["indicator"]] == min(severity[c["indicator"]] for c in full["cards"])


@pytest.mark.parametrize("config", [{"no-such-option": True}, {"coverage-info": "yes", "max-cards": "2"}, {}])
def test_unknown_or_mistyped_options_are_ignored(client, config):
    plain = call(client, "01-mm-likely-approved.json")
    configured = call(client, "01-mm-likely-approved.json", config)
    assert codes(configured) == codes(plain)
    assert len(configured["systemActions"]) == len(plain["systemActions"]) == 1


def test_filter_cards_without_configuration_changes_nothing():
    cards = [{"indicator": "info", "source": {"topic": {"code": "limits"}}}]
    assert filter_cards(cards, None) is cards
    assert filter_cards(cards, {"limits": False}) == []
    assert configuration_options("order-select")[0]["code"] == "coverage-info"
