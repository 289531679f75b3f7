"""The days-supply step on the supply as dispensed (issue 12, class 4)."""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.cards.rems import rewritten_order
from cds_service.rules.rems import judge
from tests.fhir_mappers.helpers import medication_request, rxnorm_concept

from .test_rems import AUTHORED, case, status

CYCLE_TEXT = "Take 1 capsule (10 mg) by mouth once daily on days 1-21 of each 28-day cycle"


def cycled(quantity: int, stated: int | None, **dosage: Any) -> dict[str, Any]:
    dispense: dict[str, Any] = {"quantity": {"value": quantity, "unit": "capsule"}, "numberOfRepeatsAllowed": 0}
    if stated is not None:
        dispense["expectedSupplyDuration"] = {"value": stated, "unit": "days", "code": "d"}
    line = {
        "text": CYCLE_TEXT,
        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule", "code": "{capsule}"}}],
        **dosage,
    }
    return medication_request(
        "len",
        concept=rxnorm_concept("602910", "lenalidomide 10 MG Oral Capsule"),
        authoredOn=AUTHORED,
        dosages=[line],
        dispense=dispense,
    )


def supply_step(c):
    return next(s for s in judge(c).steps if s.id == "days-supply")


def test_a_stated_28_days_does_not_hide_two_cycles_of_capsules():
    c = case(draft=cycled(56, 28))
    step = supply_step(c)
    assert step.status == "unmet"
    assert "70-day supply" in step.text and "states 28" in step.text and "days 1-21 of 28" in step.text
    assert dict(step.facts) == {"statedDays": 28, "computedDays": 70}


def test_one_cycle_of_capsules_is_a_28_day_supply():
    step = supply_step(case(draft=cycled(21, 28)))
    assert step.status == "met"
    assert "states" not in step.text  # stated and computed agree: one figure


def test_a_cycle_from_timing_bounds_and_the_text():
    bounded = {
        "text": "1 capsule daily, repeat every 28 days",
        "timing": {
            "repeat": {"boundsDuration": {"value": 21, "code": "d"}, "frequency": 1, "period": 1, "periodUnit": "d"}
        },
    }
    step = supply_step(case(draft=cycled(56, 28, **bounded)))
    assert step.status == "unmet" and dict(step.facts)["computedDays"] == 70


def test_a_stated_supply_longer_than_computed_is_judged_too():
    assert status(case(draft=cycled(21, 35)))["days-supply"] == "unmet"


@pytest.mark.parametrize(("quantity", "stated"), [(56, 28), (84, None), (42, 56)])
def test_the_rewrite_computes_back_to_28_days(quantity, stated):
    draft = cycled(quantity, stated)
    updated = rewritten_order(case(draft=draft), draft)
    assert updated["dispenseRequest"]["quantity"]["value"] == 21
    assert status(case(draft=updated))["days-supply"] == "met"
