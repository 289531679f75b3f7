"""Hand-built facts for the rules tests.

``make_case()`` is the all-met multiple-myeloma case: an adult with an active MM diagnosis,
a hematologist prescriber, generic lenalidomide 25 mg/day with a dexamethasone draft
beside it, no thalidomide or pomalidomide, Medicaid coverage. Each test changes only what
it is about, e.g. ``make_case(order=lenalidomide(brand=True))``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from fhir_mappers.facts import (
    CaseFacts,
    Coding,
    ConditionFacts,
    CoverageFacts,
    Cycle,
    LenalidomideOrder,
    MedicationOnRecord,
    PatientFacts,
    PrescriberFacts,
)

AS_OF = date(2026, 11, 20)
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ORDER_REF = "MedicationRequest/len1"


def lenalidomide(**changes: Any) -> LenalidomideOrder:
    order = LenalidomideOrder(
        ref=ORDER_REF,
        status="draft",
        intent="order",
        authored_on=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        brand=False,
        rxnorm_code="643720",
        product_display="lenalidomide 25 MG Oral Capsule",
        strength_mg=25.0,
        daily_dose_mg=25.0,
        capsules_per_day=1.0,
        dose_per_administration_mg=25.0,
        administrations_per_day=1.0,
        dose_text="25 mg once daily, days 1-21 of each 28-day cycle",
        cycle=Cycle(days_on=21, cycle_length_days=28),
        days_supply=28.0,
        quantity=21.0,
        refills=0,
        reason_refs=("Condition/mm1",),
    )
    return replace(order, **changes)


def med(
    ref: str,
    *ingredients: str,
    status: str | None = "active",
    draft: bool = False,
    authored: date | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> MedicationOnRecord:
    return MedicationOnRecord(
        ref=ref,
        ingredients=frozenset(ingredients),
        status="draft" if draft else status,
        intent="order",
        authored_on=datetime(authored.year, authored.month, authored.day, tzinfo=UTC) if authored else None,
        is_draft_order=draft,
        period_start=period_start,
        period_end=period_end,
        display=" + ".join(ingredients),
    )


def dex_draft(ref: str = "MedicationRequest/dex1") -> MedicationOnRecord:
    return med(ref, "dexamethasone", draft=True)


def condition(
    ref: str,
    *indications: str,
    code: str = "C90.00",
    active: bool = True,
    relapsed: bool | None = False,
) -> ConditionFacts:
    return ConditionFacts(
        ref=ref,
        codes=(Coding(ICD10, code),),
        text=None,
        active=active,
        indications=frozenset(indications),
        relapsed=relapsed,
    )


def myeloma(ref: str = "Condition/mm1", **changes: Any) -> ConditionFacts:
    return condition(ref, "multiple-myeloma", **changes)


def prescriber(*specialties: str, known: bool = True) -> PrescriberFacts:
    return PrescriberFacts(
        ref="Practitioner/dr1" if known else None,
        specialty_codes=frozenset(),
        specialties=frozenset(specialties),
        known=known,
    )


def coverage(line_of_business: str | None) -> CoverageFacts:
    return CoverageFacts(ref="Coverage/cov1", status="active", line_of_business=line_of_business)


def make_case(**changes: Any) -> CaseFacts:
    case = CaseFacts(
        order=lenalidomide(),
        as_of=AS_OF,
        patient=PatientFacts(ref="Patient/p1", birth_date=date(1960, 3, 15), sex="male"),
        age_years=66,
        conditions=(myeloma(),),
        prescriber=prescriber("hematology"),
        medications=(dex_draft(),),
        coverage=coverage("medicaid"),
    )
    return replace(case, **changes)
