"""Every sample bundle through the HTTP API: the cards and finding fields a prescriber relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.crd.coverage_information import EXTENSION_URL
from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
SELECT = "/cds-services/lenalidomide-order-select"


def post(client, name: str):
    body = load_json(SAMPLES / name)
    path = SELECT if body["hook"] == "order-select" else SIGN
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return body, response.get_json()


def pa(result: dict) -> dict:
    cards = findings(result, "pa-assessment")
    assert len(cards) == 1
    return cards[0]["extension"]["lenalidomide-cds.finding"]


def statuses(finding: dict) -> dict[str, str]:
    return {c["clause"].replace("CP.PHAR.71 ", ""): c["status"] for c in finding["criteria"]}


def codes(result: dict) -> list[str]:
    return [card["extension"]["lenalidomide-cds.finding"]["code"] for card in result["cards"]]


REMS_CODES = {"rems", "rems-monitoring"}
FINDING = "lenalidomide-cds.finding"


def non_rems_codes(result: dict) -> list[str]:
    """The card codes other than the REMS ones (tested in test_rems_scenarios.py); and exactly
    one ``rems`` card per lenalidomide order, since no sample here carries REMS evidence."""
    orders = {ref for card in findings(result, "pa-assessment") for ref in card["extension"][FINDING]["orders"]}
    assert codes(result).count("rems") == len(orders)
    return [code for code in codes(result) if code not in REMS_CODES]


def lenalidomide_ref(body: dict) -> str:
    for entry in body["context"]["draftOrders"]["entry"]:
        resource = entry["resource"]
        text = str(resource.get("medicationCodeableConcept") or resource.get("contained") or "").lower()
        if "lenalidomide" in text:
            return f"MedicationRequest/{resource['id']}"
    raise AssertionError("no lenalidomide draft")


def test_every_sample_is_a_valid_request_that_gets_an_answer(client):
    names = sorted(p.name for p in SAMPLES.glob("*.json"))
    assert len(names) >= 12
    for name in names:
        if name.startswith("11-"):
            continue  # needs the FHIR server; see its own test
        _body, result = post(client, name)
        for card in result["cards"]:
            assert len(card["summary"]) < 140
            assert card["source"]["label"] == "Sunrise Health Plan"
            assert card["source"]["topic"]["system"] == "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
            assert card["indicator"] in {"info", "warning", "critical"}
            assert card["uuid"] and card["detail"]
            if card.get("suggestions"):
                assert card["selectionBehavior"] == "at-most-one"
                for suggestion in card["suggestions"]:
                    assert suggestion["uuid"] and suggestion["label"]
                    for action in suggestion["actions"]:
                        assert action["description"]


def test_01_likely_approved(client):
    body, result = post(client, "01-mm-likely-approved.json")
    assert non_rems_codes(result) == ["pa-assessment"]
    finding = pa(result)
    assert finding["likelihood"] == "likely-approved"
    assert finding["indication"] == "multiple-myeloma"
    assert finding["pathway"] == "initial"
    assert finding["approvalMonths"] == 12
    assert finding["orders"] == [lenalidomide_ref(body)]
    assert set(statuses(finding).values()) == {"met"}
    assert list(statuses(finding)) == [f"I.A.{n}" for n in range(1, 8)]
    diagnosis = next(c for c in finding["criteria"] if c["clause"] == "CP.PHAR.71 I.A.1")
    assert diagnosis["evidence"] and diagnosis["evidence"][0].startswith("Condition/")
    assert result["cards"][0]["indicator"] == "info"


def test_02_needs_documentation(client):
    _, result = post(client, "02-mm-needs-documentation.json")
    finding = pa(result)
    assert finding["likelihood"] == "needs-documentation"
    got = statuses(finding)
    assert got["I.A.1"] == "met"
    assert got["I.A.2"] == "unknown"
    assert got["I.A.4"] == "unknown"
    assert "not-met" not in got.values()


def test_03_active_thalidomide_is_likely_denied(client):
    _, result = post(client, "03-mm-likely-denied-thalidomide.json")
    assert "concurrent-imid" in codes(result)
    finding = pa(result)
    assert finding["likelihood"] == "likely-denied"
    assert statuses(finding)["I.A.5"] == "not-met"
    concurrent = findings(result, "concurrent-imid")[0]["extension"]["lenalidomide-cds.finding"]
    assert concurrent["clauses"] == ["CP.PHAR.71 I.A.5"]
    assert concurrent["concurrent"] and concurrent["concurrent"][0].startswith("MedicationRequest/")


def test_04_brand_revlimid_offers_the_generic(client):
    body, result = post(client, "04-brand-revlimid.json")
    card = findings(result, "generic-substitution")[0]
    finding = card["extension"]["lenalidomide-cds.finding"]
    assert finding["clauses"] == ["CP.PHAR.71 I.A.6"]
    assert card["indicator"] == "warning"
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    resource = action["resource"]
    coding = resource["medicationCodeableConcept"]["coding"][0]
    assert (coding["code"], coding["display"]) == ("643720", "lenalidomide 25 MG Oral Capsule")
    assert f"MedicationRequest/{resource['id']}" == lenalidomide_ref(body)
    MedicationRequest.model_validate(resource)
    original = next(
        e["resource"]
        for e in body["context"]["draftOrders"]["entry"]
        if f"MedicationRequest/{e['resource']['id']}" == lenalidomide_ref(body)
    )
    assert {k: v for k, v in resource.items() if k != "medicationCodeableConcept"} == {
        k: v for k, v in original.items() if k != "medicationCodeableConcept"
    }
    assert statuses(pa(result))["I.A.6"] == "unknown"
    assert pa(result)["likelihood"] == "needs-documentation"


def test_05_over_the_ceiling_suggests_the_ceiling(client):
    _, result = post(client, "05-over-ceiling.json")
    card = findings(result, "dose-limit")[0]
    finding = card["extension"]["lenalidomide-cds.finding"]
    assert finding["clauses"] == ["CP.PHAR.71 I.A.7"]
    assert finding["dailyDoseMg"] == 30
    assert finding["ceilingMgPerDay"] == 25
    resource = card["suggestions"][0]["actions"][0]["resource"]
    MedicationRequest.model_validate(resource)
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "643720"
    repeat = resource["dosageInstruction"][0]["timing"]["repeat"]
    assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 1, "d")
    assert resource["dispenseRequest"]["quantity"]["value"] == 21
    assert statuses(pa(result))["I.A.7"] == "unknown"
    assert pa(result)["likelihood"] == "needs-documentation"


def test_06_concurrent_pomalidomide_draft(client):
    body, result = post(client, "06-concurrent-pomalidomide.json")
    card = findings(result, "concurrent-imid")[0]
    delete = card["suggestions"][0]["actions"][0]
    assert delete["type"] == "delete"
    assert delete["resourceId"] != lenalidomide_ref(body)
    assert delete["resourceId"].startswith("MedicationRequest/")
    assert pa(result)["likelihood"] == "likely-denied"
    assert statuses(pa(result))["I.A.5"] == "not-met"
    assert pa(result)["orders"] == body["context"]["selections"]


def test_07_no_diagnosis(client):
    _, result = post(client, "07-no-diagnosis.json")
    finding = pa(result)
    assert finding["indication"] == "unknown"
    assert finding["likelihood"] == "needs-documentation"
    assert finding["criteria"][0]["status"] == "unknown"


def test_08_minor(client):
    _, result = post(client, "08-minor.json")
    finding = pa(result)
    assert finding["likelihood"] == "likely-denied"
    assert statuses(finding)["I.A.3"] == "not-met"


@pytest.mark.parametrize("name", ["09-non-lenalidomide.json", "13-sandbox-style-order-select-empty.json"])
def test_no_lenalidomide_no_cards(client, name):
    _, result = post(client, name)
    assert result == {"cards": []}


def test_10_order_select_speaks_only_of_the_selection(client):
    body, result = post(client, "10-order-select-selections.json")
    assert non_rems_codes(result) == ["pa-assessment"]
    assert pa(result)["orders"] == body["context"]["selections"]
    assert pa(result)["likelihood"] == "likely-approved"
    assert "systemActions" not in result


@responses.activate
def test_11_prefetch_missing_reads_the_fhir_server(make_app):
    server = load_json(SAMPLES / "fhir-server" / "11-prefetch-missing.json")
    base = server["base"].rstrip("/")
    client = make_app(CDS_FHIR_SERVERS=base).test_client()
    for query, answer in server["responses"].items():
        url = query if query.startswith("http") else f"{base}/{query}"
        responses.get(
            url,
            json=answer,
            match=[responses.matchers.header_matcher({"Authorization": "Bearer sample-access-token-not-real"})],
        )
    _body, result = post(client, "11-prefetch-missing.json")
    assert pa(result)["likelihood"] == "likely-approved"
    read = {call.request.url.split("?")[0] for call in responses.calls}
    assert f"{base}/Condition" in read and any("_getpages" in call.request.url for call in responses.calls)


def test_11_without_the_fhir_server_is_412(client):
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # every read fails to connect
        response = client.post(SIGN, json=body)
    assert response.status_code == 412
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "patient" in outcome["issue"][0]["diagnostics"]
    assert outcome["issue"][0]["expression"] == ["prefetch.patient"]


def test_12_relapsed_with_carfilzomib_and_contained_medication(client):
    _, result = post(client, "12-relapsed-mm-carfilzomib.json")
    finding = pa(result)
    assert finding["likelihood"] == "likely-approved"
    assert statuses(finding)["I.A.4"] == "met"


def test_order_sign_returns_a_crd_coverage_information_action(client):
    body, result = post(client, "01-mm-likely-approved.json")
    actions = result["systemActions"]
    assert len(actions) == 1
    action = actions[0]
    assert action["type"] == "update" and action["description"]
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    draft = next(
        e["resource"]
        for e in body["context"]["draftOrders"]["entry"]
        if f"MedicationRequest/{e['resource']['id']}" == lenalidomide_ref(body)
    )
    added = [e for e in resource["extension"] if e["url"] == EXTENSION_URL]
    assert len(added) == 1
    rest = dict(resource)
    rest["extension"] = [e for e in resource["extension"] if e["url"] != EXTENSION_URL]
    if not rest["extension"]:
        del rest["extension"]
    assert rest == draft


def test_sample_bundles_readme_lists_every_file():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for path in Path(SAMPLES).glob("*.json"):
        assert path.name in readme
