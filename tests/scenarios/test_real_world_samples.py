"""Samples 60-66: FHIR shaped as EHRs and lab feeds send it (issue 12), through the HTTP API."""

from __future__ import annotations

from tests.conftest import findings

from .test_sample_bundles import pa, post, statuses

FINDING = "lenalidomide-cds.finding"


def rems_steps(result: dict, order: str | None = None) -> dict[str, dict]:
    cards = [c for c in findings(result, "rems") if order is None or order in c["extension"][FINDING]["orders"]]
    assert len(cards) == 1
    return {step["id"]: step for step in cards[0]["extension"][FINDING]["steps"]}


def test_myeloma_in_remission_coded_by_oid_is_a_diagnosis_on_record(client):
    _, result = post(client, "60-mm-remission-maintenance-oid.json")
    finding = pa(result)
    assert finding["indication"] == "multiple-myeloma"
    assert statuses(finding)["I.A.1"] == "met"
    assert "Condition/cond-60-mm" in finding["criteria"][0]["evidence"]
    assert finding["likelihood"] == "likely-approved"


def test_a_stated_28_days_that_hides_70_days_of_capsules(client):
    _, result = post(client, "61-rems-cycle-quantity-over-stated-supply.json")
    supply = rems_steps(result)["days-supply"]
    assert supply["status"] == "unmet"
    assert (supply["statedDays"], supply["computedDays"]) == (28, 70)
    (card,) = findings(result, "rems")
    assert "70-day supply" in card["detail"] and "states 28" in card["detail"]
    rewrites = [
        action["resource"]
        for c in result["cards"]
        for s in c.get("suggestions", ())
        for action in s["actions"]
        if action["type"] == "update"
    ]
    assert [r["dispenseRequest"]["quantity"]["value"] for r in rewrites] == [21]


def test_a_lab_feed_with_text_results_meets_the_pregnancy_test(client):
    _, result = post(client, "62-rems-lab-feed-text-results.json")
    assert rems_steps(result)["pregnancy-test"]["status"] == "met"
    (card,) = findings(result, "rems")
    assert card["indicator"] != "critical"
    assert not findings(result, "pregnancy")


def test_an_unreadable_result_is_said_to_be_unreadable(client):
    _, result = post(client, "63-rems-unreadable-pregnancy-result.json")
    step = rems_steps(result)["pregnancy-test"]
    assert step["status"] == "unverified"
    assert step["unreadableResults"] == ["Observation/obs-63-hcg-2"]
    (card,) = findings(result, "rems")
    assert card["indicator"] == "critical"
    assert "could not be read" in card["detail"]
    assert not findings(result, "pregnancy")  # not read as positive either


def test_two_lenalidomide_drafts_are_one_daily_dose(client):
    _, result = post(client, "64-mds-del5q-two-orders-summed.json")
    both = ["MedicationRequest/mr-64-len", "MedicationRequest/mr-64-len5"]
    (dose,) = findings(result, "dose-limit")
    finding = dose["extension"][FINDING]
    assert finding["orders"] == both and finding["ordersSummed"] == both
    assert (finding["dailyDoseMg"], finding["ceilingMgPerDay"]) == (15, 10)
    assert "2 lenalidomide orders taken together" in dose["detail"]
    assert not dose.get("suggestions")  # which order to change is the prescriber's call
    cards = findings(result, "pa-assessment")
    assert sorted(ref for c in cards for ref in c["extension"][FINDING]["orders"]) == both
    for card in cards:
        assert statuses(card["extension"][FINDING])["I.B.7"] == "unknown"
    actions = result.get("systemActions", [])
    assert sorted(a["resource"]["id"] for a in actions) == ["mr-64-len", "mr-64-len5"]


def test_a_risk_category_for_the_other_sex_is_unmet(client):
    _, result = post(client, "65-rems-risk-category-contradicts-sex.json")
    step = rems_steps(result)["risk-category-on-prescription"]
    assert step["status"] == "unmet"
    assert "the record says female" in step["text"]


def test_a_sex_recorded_as_unknown_is_said_so_and_a_missing_test_is_critical(client):
    _, result = post(client, "66-rems-sex-recorded-unknown.json")
    (card,) = findings(result, "rems")
    finding = card["extension"][FINDING]
    assert finding["riskCategory"] == "unknown"
    assert finding["riskCategoryReason"].startswith("sex recorded as unknown")
    assert rems_steps(result)["pregnancy-test"]["status"] == "unverified"
    assert card["indicator"] == "critical"
