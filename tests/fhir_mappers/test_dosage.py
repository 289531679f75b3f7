"""Dosage helpers: cycles in free text, frequencies in text, supply with cycles."""

from __future__ import annotations

import pytest

from fhir_mappers.dosage import days_supply, duration_days, frequency_from_text, parse_cycle
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
    assert days_supply({"quantity": {"value": quantity, "code": "{capsule}"}}, per_day, cycle) == (
        supply,
        quantity,
    )


def test_days_supply_prefers_expected_supply_duration_and_needs_capsules():
    dispense = {"quantity": {"value": 21}, "expectedSupplyDuration": {"value": 21, "code": "d"}}
    assert days_supply(dispense, 1, Cycle(21, 28)) == (21, 21)
    assert days_supply({"quantity": {"value": 210, "code": "mg"}}, 1, None) == (None, None)
    assert days_supply({"quantity": {"value": 21}}, None, None) == (None, 21)
    assert days_supply("junk", 1, None) == (None, None)
