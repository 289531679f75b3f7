"""Property tests: arbitrary FHIR-like JSON never raises out of a mapper, and the dose and
supply arithmetic holds for generated doses, frequencies, periods and strengths."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_mappers.case import build_cases, lenalidomide_draft_refs
from fhir_mappers.condition import map_condition
from fhir_mappers.coverage import map_coverage
from fhir_mappers.medication_request import is_lenalidomide, map_lenalidomide_order, map_medication_on_record
from fhir_mappers.patient import map_patient
from fhir_mappers.practitioner import map_prescriber

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(
    [
        "resourceType",
        "id",
        "status",
        "intent",
        "code",
        "coding",
        "system",
        "display",
        "text",
        "value",
        "unit",
        "medicationCodeableConcept",
        "medicationReference",
        "reference",
        "contained",
        "dosageInstruction",
        "timing",
        "repeat",
        "frequency",
        "period",
        "periodUnit",
        "doseAndRate",
        "doseQuantity",
        "dispenseRequest",
        "quantity",
        "expectedSupplyDuration",
        "numberOfRepeatsAllowed",
        "authoredOn",
        "birthDate",
        "gender",
        "clinicalStatus",
        "verificationStatus",
        "specialty",
        "type",
        "entry",
        "resource",
        "ingredient",
        "strength",
        "numerator",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["MedicationRequest", "Condition", "Patient", "643720", RXNORM, "d", "mg"]),
)
FHIRISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=6)),
    max_leaves=40,
)
NOW = datetime(2026, 11, 23, tzinfo=UTC)


@SETTINGS
@given(FHIRISH)
def test_no_mapper_raises_on_arbitrary_json(value):
    is_lenalidomide(value)
    map_lenalidomide_order(value)
    map_medication_on_record(value)
    map_patient(value)
    map_condition(value)
    map_prescriber([value], "Practitioner/x")
    map_coverage([value])


@SETTINGS
@given(
    FHIRISH, FHIRISH, st.dictionaries(st.sampled_from(["patient", "conditions", "medications", "coverage"]), FHIRISH)
)
def test_building_cases_never_raises(drafts, selections, prefetch):
    lenalidomide_draft_refs(drafts, selections, prefetch=prefetch)
    build_cases(draft_orders=drafts, selections=selections, prefetch=prefetch, unavailable=set(), now=NOW)


def _order(
    capsules: int, frequency: int, period: int, unit: str, supply_days: int | None, quantity: int | None
) -> dict:
    dispense: dict = {}
    if supply_days is not None:
        dispense["expectedSupplyDuration"] = {"value": supply_days, "unit": "days", "code": "d"}
    if quantity is not None:
        dispense["quantity"] = {"value": quantity, "unit": "capsule", "code": "{capsule}"}
    return {
        "resourceType": "MedicationRequest",
        "id": "len",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "643712"}]},  # 15 mg capsules
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": frequency, "period": period, "periodUnit": unit}},
                "doseAndRate": [{"doseQuantity": {"value": capsules, "unit": "capsule", "code": "{capsule}"}}],
            }
        ],
        "dispenseRequest": dispense,
    }


UNIT_DAYS = {"d": 1, "wk": 7, "h": 1 / 24}


@SETTINGS
@given(
    capsules=st.integers(1, 4),
    frequency=st.integers(1, 4),
    period=st.integers(1, 3),
    unit=st.sampled_from(sorted(UNIT_DAYS)),
)
def test_daily_dose_is_strength_times_capsules_times_frequency_per_day(capsules, frequency, period, unit):
    order = map_lenalidomide_order(_order(capsules, frequency, period, unit, 28, None))
    per_day = frequency / (period * UNIT_DAYS[unit])
    assert order.strength_mg == 15
    assert math.isclose(order.capsules_per_day, capsules * per_day, rel_tol=1e-9)
    if per_day >= 1:  # dosed every calendar day: the day's dose is the average dose
        assert math.isclose(order.daily_dose_mg, 15 * capsules * per_day, rel_tol=1e-9)


@SETTINGS
@given(capsules=st.integers(1, 3), frequency=st.integers(1, 3), days=st.integers(1, 90))
def test_days_supply_from_quantity_is_quantity_over_capsules_per_day(capsules, frequency, days):
    quantity = capsules * frequency * days
    order = map_lenalidomide_order(_order(capsules, frequency, 1, "d", None, quantity))
    assert math.isclose(order.days_supply, days, rel_tol=1e-9)
    assert order.quantity == quantity


@SETTINGS
@given(supply=st.integers(1, 365), quantity=st.integers(1, 500))
def test_the_larger_of_stated_and_computed_supply_is_judged(supply, quantity):
    order = map_lenalidomide_order(_order(1, 1, 1, "d", supply, quantity))
    assert (order.stated_days_supply, order.computed_days_supply) == (supply, quantity)
    assert order.days_supply == max(supply, quantity)
