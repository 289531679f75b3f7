"""The rems, rems-monitoring and pregnancy cards built from a judged case."""

from __future__ import annotations

from cds_service.cards import order_update
from cds_service.cards.pregnancy import pregnancy_card
from cds_service.cards.rems import rems_card, rems_monitoring_card, rewritten_order
from cds_service.rules.rems import judge
from tests.cds_service.rules.test_rems import case, negative, order, ours

FINDING = "lenalidomide-cds.finding"


def test_rewrite_scales_quantity_sets_duration_and_clears_refills():
    draft = order(
        dispenseRequest={
            "quantity": {"value": 42, "unit": "capsule"},
            "expectedSupplyDuration": {"value": 42, "unit": "d"},
            "numberOfRepeatsAllowed": 3,
        }
    )
    c = case(draft=draft)
    updated = rewritten_order(c, draft)
    assert updated is not None
    assert updated["dispenseRequest"]["quantity"] == {"value": 28, "unit": "capsule"}
    assert updated["dispenseRequest"]["expectedSupplyDuration"]["value"] == 28
    assert updated["dispenseRequest"]["numberOfRepeatsAllowed"] == 0
    assert draft["dispenseRequest"]["quantity"]["value"] == 42  # the draft itself is untouched


def test_rewrite_of_refills_only_keeps_the_supply():
    draft = order(dispenseRequest={"expectedSupplyDuration": {"value": 21, "unit": "d"}, "numberOfRepeatsAllowed": 1})
    updated = rewritten_order(case(draft=draft), draft)
    assert updated is not None
    assert updated["dispenseRequest"] == {
        "expectedSupplyDuration": {"value": 21, "unit": "d"},
        "numberOfRepeatsAllowed": 0,
    }
    assert rewritten_order(case(draft=draft), None) is None


def test_refills_unmet_gives_exactly_one_update_suggestion():
    draft = order(dispenseRequest={"expectedSupplyDuration": {"value": 28, "unit": "d"}, "numberOfRepeatsAllowed": 2})
    c = case(sex="male", birth="1960-01-01", draft=draft)
    card = rems_card(c, judge(c), "Plan")
    assert card is not None
    cards = [card]
    order_update.attach(cards, c, draft, order_update.Asks(refills=True))
    (suggestion,) = card["suggestions"]
    assert suggestion["label"] == "Rewrite: no refills"
    assert [a["type"] for a in suggestion["actions"]] == ["update"]
    assert suggestion["actions"][0]["resource"]["dispenseRequest"]["numberOfRepeatsAllowed"] == 0
    assert card["indicator"] == "warning"


def test_order_select_card_is_short_and_has_no_suggestion():
    draft = order(dispenseRequest={"expectedSupplyDuration": {"value": 35, "unit": "d"}})
    c = case(sex="male", birth="1960-01-01", draft=draft)
    card = rems_card(c, judge(c), "Plan", hook="order-select")
    assert card is not None
    assert "suggestions" not in card
    # Only the first thing to fix in this order: the supply, not the list behind it.
    assert card["summary"] == "Lenalidomide REMS: 35-day supply ordered"
    assert "**Supply:** 35-day supply ordered; at most 28 days." in card["detail"]
    assert "Authorization number" not in card["detail"] and "Confirm in the REMS program" not in card["detail"]
    assert len(card["summary"]) < 140
    assert card["extension"][FINDING]["riskCategory"] == "adult-male"


def test_no_cards_when_nothing_is_due():
    c = case(sex="male", birth="1960-01-01")
    j = judge(c)
    assert rems_monitoring_card(c, j, "Plan") is None
    assert pregnancy_card(c, j, "Plan") is None


def test_breastfeeding_card_is_a_warning_without_suggestions():
    tests = [negative("a", "2026-11-08T10:00:00Z"), negative("b", "2026-11-20T10:00:00Z")]
    c = case(observations=[*tests, ours("Observation", "bf", "breastfeeding")])
    card = pregnancy_card(c, judge(c), "Plan")
    assert card is not None
    assert card["indicator"] == "warning"
    assert card["source"]["topic"]["code"] == "contraindication"
    assert "suggestions" not in card
    assert card["extension"][FINDING]["code"] == "pregnancy"


def test_risk_category_on_the_order_is_not_asked_for_again_and_reads_as_the_guide_names_it():
    on_order = [{"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-male"}]
    c = case(sex="male", birth="1960-01-01", draft=order(extension=on_order))
    card = rems_card(c, judge(c), "Plan")
    assert card is not None
    assert "**On record:**" in card["detail"] and "“Adult male” on the order" in card["detail"]
    assert "Risk category:**" not in card["detail"] and "write it on the prescription" not in card["detail"].lower()
    wrong = case(sex="female", draft=order(extension=on_order))
    card = rems_card(wrong, judge(wrong), "Plan")
    assert card is not None
    line = next(line for line in card["detail"].splitlines() if line.startswith("- **Risk category:**"))
    assert "“Adult male” on the order" in line and "correct it to “Adult female of reproductive potential”" in line
    assert "adult-male" not in card["detail"]
