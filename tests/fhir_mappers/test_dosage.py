"""Dosage helpers: cycles in free text, frequencies in text, supply with cycles."""

from __future__ import annotations

import pytest

from fhir_mappers.dosage import (
    capsules_for_days,
    days_supply,
    duration_days,
    frequency_from_text,
    parse_cycle,
    summarise,
)
from fhir_mappers.facts import Cycle


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        ("10 mg daily on days 1-21 of a 28-day cycle", (21, 28)),
        ("Days 1–21 of each 28 day cycle", (21, 28)),
        ("days 1 through 21 every 28 days", (21, 28)),
        ("d1-21 q28d", (21, 28)),
        ("D1-21 Q28", (21, 28)),
        ("days 1-21 of repeated 28-day cycles", (21, 28)),
        ("days 1 to 21, every 4 weeks", (21, 28)),
        ("21 days on, 7 days off", (21, 28)),
        ("take for 21 days of a 28-day cycle", (21, 28)),
        ("21 out of 28 days", (21, 28)),
        ("days 1-28 of 28-day cycles", (28, 28)),
        ("1000 mg/m2 orally twice daily from days 1-14 of cycle", None),  # no cycle length
        ("days 1-21, then 7 days rest", None),
        ("Take one tablet daily as directed", None),
        ("days 1-21 of cycle 3", None),
    ],
)
def test_parse_cycle(text, cycle):
    expected = Cycle(*cycle) if cycle else None
    assert parse_cycle([text]) == expected


@pytest.mark.parametrize(
    ("text", "per_day"),
    [
        ("once daily", 1.0),
        ("Take one capsule daily", 1.0),
        ("1 PO QD", 1.0),
        ("twice daily", 2.0),
        ("5 mL bid x 10 days", 2.0),
        ("every other day", 0.5),
        ("three times a day", 3.0),
        ("total daily dose 25 mg", None),
        ("Rapid daily-dose escalation", None),
        ("as directed", None),
    ],
)
def test_frequency_from_text(text, per_day):
    assert frequency_from_text([text]) == per_day


def test_duration_days():
    assert duration_days({"value": 30, "unit": "days", "code": "d"}) == 30
    assert duration_days({"value": 1, "code": "mo"}) == 30
    assert duration_days({"value": 2, "code": "wk"}) == 14
    assert duration_days({"value": 30}) is None
    assert duration_days({"value": -3, "code": "d"}) is None


@pytest.mark.parametrize(
    ("quantity", "per_day", "cycle", "supply"),
    [
        (21, 1, Cycle(21, 28), 28.0),  # one full cycle: the rest week is covered
        (42, 1, Cycle(21, 28), 56.0),
        (28, 1, Cycle(21, 28), 35.0),  # a full cycle and 7 dosing days
        (14, 1, Cycle(21, 28), 14.0),
        (42, 2, Cycle(21, 28), 28.0),  # two capsules a day
        (28, 1, Cycle(28, 28), 28.0),  # continuous
        (28, 1, None, 28.0),
        (14, 0.5, None, 28.0),  # every other day
    ],
)
def test_days_supply_from_quantity(quantity, per_day, cycle, supply):
    found = days_supply({"quantity": {"value": quantity, "code": "{capsule}"}}, per_day, cycle)
    assert (found.days, found.computed_days, found.stated_days, found.quantity) == (supply, supply, None, quantity)


def test_the_larger_of_stated_and_computed_supply_is_judged():
    # Issue 12, class 4: 56 capsules once daily on days 1-21 of 28 are 70 days, whatever is stated.
    hidden = days_supply(
        {"quantity": {"value": 56}, "expectedSupplyDuration": {"value": 28, "code": "d"}}, 1, Cycle(21, 28)
    )
    assert (hidden.stated_days, hidden.computed_days, hidden.days) == (28, 70, 70)
    longer = days_supply(
        {"quantity": {"value": 21}, "expectedSupplyDuration": {"value": 35, "code": "d"}}, 1, Cycle(21, 28)
    )
    assert (longer.stated_days, longer.computed_days, longer.days) == (35, 28, 35)


def test_days_supply_needs_capsules_and_a_schedule_to_compute():
    assert days_supply({"quantity": {"value": 210, "code": "mg"}}, 1, None).days is None
    only_quantity = days_supply({"quantity": {"value": 21}}, None, None)
    assert (only_quantity.days, only_quantity.quantity) == (None, 21)
    stated = days_supply({"quantity": {"value": 21}, "expectedSupplyDuration": {"value": 4, "code": "wk"}}, None, None)
    assert (stated.days, stated.computed_days) == (28, None)
    assert days_supply("junk", 1, None).days is None


@pytest.mark.parametrize(
    ("days", "per_day", "cycle", "capsules"),
    [
        (28, 1, Cycle(21, 28), 21),
        (28, 1, None, 28),
        (28, 2, Cycle(21, 28), 42),
        (28, 1, Cycle(14, 21), 21),
        (28, 0.5, None, 14),
    ],
)
def test_capsules_for_a_28_day_supply_compute_back_to_at_most_28_days(days, per_day, cycle, capsules):
    assert capsules_for_days(days, per_day, cycle) == capsules
    assert days_supply({"quantity": {"value": capsules}}, per_day, cycle).days <= days


@pytest.mark.parametrize(
    ("timing", "text", "cycle"),
    [
        (
            {"repeat": {"boundsDuration": {"value": 21, "code": "d"}, "frequency": 1, "period": 1, "periodUnit": "d"}},
            "Take 1 capsule daily. Repeat every 28 days.",
            Cycle(21, 28),
        ),
        (
            {
                "repeat": {
                    "boundsPeriod": {"start": "2026-11-20", "end": "2026-12-10"},
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                }
            },
            "28-day cycle",
            Cycle(21, 28),
        ),
        (
            {"repeat": {"boundsDuration": {"value": 3, "code": "wk"}, "frequency": 1, "period": 1, "periodUnit": "d"}},
            "q28d",
            Cycle(21, 28),
        ),
        # Bounds without a cycle length are the therapy's span, not a cycle.
        (
            {"repeat": {"boundsDuration": {"value": 21, "code": "d"}, "frequency": 1, "period": 1, "periodUnit": "d"}},
            "Take 1 capsule daily",
            None,
        ),
        (
            {
                "repeat": {
                    "boundsPeriod": {"start": "2026-01-01", "end": "2026-12-31"},
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                }
            },
            "28-day cycle",
            None,
        ),
    ],
)
def test_cycle_from_timing_bounds_and_a_stated_cycle_length(timing, text, cycle):
    dosage = {"timing": timing, "text": text, "doseAndRate": [{"doseQuantity": {"value": 1, "code": "{capsule}"}}]}
    assert summarise([dosage], 10, []).cycle == cycle
