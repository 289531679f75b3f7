"""The Lenalidomide REMS sample bundles (20-32, and the older ones' risk categories) through the
HTTP API: riskCategory, step statuses, indicators, the pregnancy and monitoring cards."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
SELECT = "/cds-services/lenalidomide-order-select"
FINDING = "lenalidomide-cds.finding"
STEP_IDS = [
    "prescriber-certification",
    "patient-enrollment",
    "patient-survey",
    "prescriber-survey",
    "authorization-number",
    "risk-category-on-prescription",
    "pregnancy-test",
    "contraception-counseling",
    "patient-counseling",
    "days-supply",
    "refills",
    "certified-pharmacy",
]


def post(client, name: str) -> dict:
    body = load_json(SAMPLES / name)
    response = client.post(SELECT if body["hook"] == "order-select" else SIGN, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def rems(result: dict) -> tuple[dict, dict]:
    cards = findings(result, "rems")
    assert len(cards) == 1
    return cards[0], cards[0]["extension"][FINDING]


def steps(finding: dict) -> dict[str, str]:
    return {s["id"]: s["status"] for s in finding["steps"]}


def step_text(finding: dict, step_id: str) -> str:
    return next(s["text"] for s in finding["steps"] if s["id"] == step_id)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("01-mm-likely-approved.json", "adult-male"),
        ("08-minor.json", "male-child"),
        ("20-rems-female-no-pregnancy-test.json", "adult-female-reproductive-potential"),
        ("26-rems-postmenopausal-35-days-refills.json", "adult-female-not-reproductive-potential"),
        ("27-rems-female-child-not-reproductive-potential.json", "female-child-not-reproductive-potential"),
        ("28-rems-female-child-reproductive-potential.json", "female-child-reproductive-potential"),
        ("30-rems-del5q-mds-cbc-monitoring.json", "adult-female-not-reproductive-potential"),
    ],
)
def test_each_risk_category(client, name, category):
    card, finding = rems(post(client, name))
    assert finding["riskCategory"] == category
    assert finding["orders"] and finding["clauses"]
    assert card["source"]["topic"]["code"] == "clinical-reminder"
    ids = [s["id"] for s in finding["steps"]]
    expected = [i for i in STEP_IDS if i != "pregnancy-test" or category.endswith("-reproductive-potential")]
    if "not-reproductive" in category:
        expected.remove("pregnancy-test")
    assert ids == expected
    assert all(s["status"] in {"met", "unmet", "unverified"} and s["text"] for s in finding["steps"])
    assert {link["url"] for link in card["links"]} >= {"https://www.lenalidomiderems.com"}
    assert all(link["type"] == "absolute" for link in card["links"])
    assert "completed-outside-ehr" in {r["code"].removeprefix("rems-") for r in card["overrideReasons"]}


def test_female_without_any_test_is_critical_and_says_why(client):
    card, finding = rems(post(client, "20-rems-female-no-pregnancy-test.json"))
    assert card["indicator"] == "critical"
    assert steps(finding)["pregnancy-test"] == "unverified"
    assert "no pregnancy test on record" in step_text(finding, "pregnancy-test")
    assert finding["riskCategoryReason"] == "no menopause or hysterectomy on record"
    assert "no menopause or hysterectomy on record" in card["detail"]
    assert steps(finding)["days-supply"] == "met" and steps(finding)["refills"] == "met"
    assert finding["prescription"] == "initial"


def test_initial_with_only_the_early_test(client):
    card, finding = rems(post(client, "21-rems-initial-one-test-only.json"))
    assert card["indicator"] == "critical"
    assert steps(finding)["pregnancy-test"] == "unverified"
    text = step_text(finding, "pregnancy-test")
    assert "within 24 hours" in text and "10 to 14 days" not in text


def test_initial_confirmation_test_25_hours_old(client):
    card, finding = rems(post(client, "22-rems-initial-test-25-hours-old.json"))
    assert card["indicator"] == "critical"
    assert steps(finding)["pregnancy-test"] == "unverified"
    assert "25 hours old" in step_text(finding, "pregnancy-test")


def test_initial_valid_pair_meets_the_test_and_is_only_a_warning(client):
    result = post(client, "23-rems-initial-valid-pair.json")
    card, finding = rems(result)
    assert steps(finding)["pregnancy-test"] == "met"
    assert card["indicator"] == "warning"
    assert findings(result, "pregnancy") == []


def test_subsequent_prescription_with_a_stale_test(client):
    card, finding = rems(post(client, "24-rems-subsequent-stale-test.json"))
    assert finding["prescription"] == "subsequent"
    assert steps(finding)["pregnancy-test"] == "unverified"
    assert "more than 7 days" in step_text(finding, "pregnancy-test")
    assert card["indicator"] == "critical"


def test_positive_test_gives_a_critical_pregnancy_card(client):
    result = post(client, "25-rems-positive-pregnancy-test.json")
    cards = findings(result, "pregnancy")
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "critical"
    assert card["source"]["topic"]["code"] == "contraindication"
    assert "1-888-423-5436" in card["detail"] and "1-800-FDA-1088" in card["detail"]
    assert card["extension"][FINDING]["evidence"] == ["Observation/obs-25-hcg-1"]
    assert card["suggestions"][0]["actions"][0] == {
        "type": "delete",
        "description": card["suggestions"][0]["actions"][0]["description"],
        "resourceId": "MedicationRequest/mr-25-len10",
    }
    rems_card, finding = rems(result)
    assert steps(finding)["pregnancy-test"] == "unmet"
    assert rems_card["indicator"] == "critical"


def test_breastfeeding_is_a_pregnancy_warning(client):
    result = post(client, "31-rems-breastfeeding.json")
    card = findings(result, "pregnancy")[0]
    assert card["indicator"] == "warning"
    assert card["extension"][FINDING]["kind"] == "breastfeeding"
    assert "suggestions" not in card
    _rems_card, finding = rems(result)
    assert steps(finding)["pregnancy-test"] == "met"


def test_supply_over_28_days_and_refills_are_unmet_with_a_rewrite(client):
    body = load_json(SAMPLES / "26-rems-postmenopausal-35-days-refills.json")
    card, finding = rems(post(client, "26-rems-postmenopausal-35-days-refills.json"))
    assert steps(finding)["days-supply"] == "unmet"
    assert steps(finding)["refills"] == "unmet"
    assert "pregnancy-test" not in steps(finding)
    assert card["indicator"] == "warning"
    assert card["selectionBehavior"] == "at-most-one"
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    resource = action["resource"]
    assert resource["id"] == "mr-26-len10"
    assert resource["dispenseRequest"]["numberOfRepeatsAllowed"] == 0
    assert resource["dispenseRequest"]["expectedSupplyDuration"]["value"] == 28
    assert resource["dispenseRequest"]["quantity"]["value"] == 28
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    assert {k: v for k, v in resource.items() if k != "dispenseRequest"} == {
        k: v for k, v in draft.items() if k != "dispenseRequest"
    }


def test_no_suggestion_when_supply_and_refills_are_met(client):
    card, _finding = rems(post(client, "20-rems-female-no-pregnancy-test.json"))
    assert "suggestions" not in card


def test_adult_male_with_every_step_on_record_gets_no_rems_card(client):
    result = post(client, "29-rems-adult-male-all-evidence.json")
    codes = [c["extension"][FINDING]["code"] for c in result["cards"]]
    assert codes == ["pa-assessment"]  # no rems (all met) and no thromboprophylaxis (apixaban on record)


def test_adult_male_without_evidence_has_no_pregnancy_step_and_initial_survey_met(client):
    card, finding = rems(post(client, "01-mm-likely-approved.json"))
    assert card["indicator"] == "warning"
    assert "pregnancy-test" not in steps(finding)
    assert steps(finding)["patient-survey"] == "met"  # males take no initial survey
    assert "condom" in card["detail"]


def test_del5q_mds_cbc_monitoring(client):
    result = post(client, "30-rems-del5q-mds-cbc-monitoring.json")
    cards = findings(result, "rems-monitoring")
    assert len(cards) == 1
    finding = cards[0]["extension"][FINDING]
    assert cards[0]["source"]["topic"]["code"] == "clinical-reminder"
    assert [m["id"] for m in finding["monitoring"]] == ["cbc"]
    assert "weekly CBC" in finding["monitoring"][0]["text"]
    assert "Condition/cond-30" in finding["monitoring"][0]["evidence"]
    _card, rems_finding = rems(result)
    assert rems_finding["prescription"] == "subsequent"
    assert "hysterectomy" in rems_finding["riskCategoryReason"]


def test_mm_with_dexamethasone_and_no_anticoagulant_gets_thromboprophylaxis(client):
    result = post(client, "01-mm-likely-approved.json")
    finding = findings(result, "rems-monitoring")[0]["extension"][FINDING]
    assert [m["id"] for m in finding["monitoring"]] == ["thromboprophylaxis"]


def test_order_select_is_short_and_names_the_category_and_first_step(client):
    card, finding = rems(post(client, "32-rems-order-select-short.json"))
    assert card["summary"] == "No valid negative pregnancy test on record: lenalidomide cannot be dispensed"
    # The windows computed for this order (authoredOn 2026-11-20): 10-14 days before, and 24 hours.
    assert "a negative test between 6 and 10 November and another within 24 hours before signing" in card["detail"]
    assert "Adult female of reproductive potential" in card["detail"]
    assert "Fix in this order" not in card["detail"]  # only what blocks dispensing
    assert "suggestions" not in card
    assert finding["riskCategory"] == "adult-female-reproductive-potential"
    assert card["indicator"] == "critical"
    assert "|" not in card["detail"]  # no checklist table on order-select
