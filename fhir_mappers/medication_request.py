"""MedicationRequest (R4/STU3, and DSTU2 MedicationOrder) to facts.

The medication is read from ``medicationCodeableConcept``, or through
``medicationReference`` from a contained Medication (``#id``) or one that the caller can
resolve (draftOrders, prefetch). R5's ``medication`` CodeableReference is read too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import codes
from .datatypes import (
    codings,
    concept_texts,
    dicts,
    integer,
    number,
    parse_date,
    parse_instant,
    quantity_unit,
    resource_ref,
    text,
)
from .dosage import days_supply, is_count_quantity, mass_mg, summarise
from .facts import Coding, LenalidomideOrder, MedicationOnRecord
from .resources import find_contained, parse_reference

ResolveMedication = Callable[[str], dict[str, Any] | None]

MEDICATION_REQUEST_TYPES = ("MedicationRequest", "MedicationOrder")
LENALIDOMIDE = "lenalidomide"


@dataclass(frozen=True)
class MedicationRead:
    """Where an order's medication was found and what it says."""

    concept: Any  # the CodeableConcept naming the drug, if any
    resource: dict[str, Any] | None  # the Medication resource, when referenced and found
    source: str  # codeableconcept | contained | reference | none
    reference_display: str | None


def is_medication_request(resource: Any) -> bool:
    return isinstance(resource, dict) and resource.get("resourceType") in MEDICATION_REQUEST_TYPES


def _resolve(reference: str, resolve_medication: ResolveMedication | None) -> dict[str, Any] | None:
    if resolve_medication is None:
        return None
    found = resolve_medication(reference)
    return found if isinstance(found, dict) and found.get("resourceType") == "Medication" else None


def read_medication(mr: Any, resolve_medication: ResolveMedication | None = None) -> MedicationRead:
    """The medication an order names (see the module notes)."""
    if not isinstance(mr, dict):
        return MedicationRead(None, None, "none", None)
    concept = mr.get("medicationCodeableConcept")
    reference = mr.get("medicationReference")
    r5 = mr.get("medication")
    if isinstance(r5, dict):
        concept = concept if isinstance(concept, dict) else r5.get("concept")
        reference = reference if isinstance(reference, dict) else r5.get("reference")
    if isinstance(concept, dict):
        return MedicationRead(concept, None, "codeableconcept", None)
    if isinstance(reference, dict):
        ref = text(reference.get("reference"))
        display = text(reference.get("display"))
        if ref and ref.startswith("#"):
            found = find_contained(mr, ref)
            found = found if isinstance(found, dict) and found.get("resourceType") == "Medication" else None
            return MedicationRead(found.get("code") if found else None, found, "contained", display)
        found = _resolve(ref, resolve_medication) if ref else None
        return MedicationRead(found.get("code") if found else None, found, "reference", display)
    return MedicationRead(None, None, "none", None)


def _ingredient_item(ingredient: dict[str, Any], medication: dict[str, Any]) -> Any:
    """The concept of a Medication.ingredient item (R4 itemCodeableConcept / itemReference
    to a contained Substance or Medication, R5 item.concept)."""
    if isinstance(ingredient.get("itemCodeableConcept"), dict):
        return ingredient["itemCodeableConcept"]
    item = ingredient.get("item")
    if isinstance(item, dict) and isinstance(item.get("concept"), dict):
        return item["concept"]
    reference = ingredient.get("itemReference")
    if isinstance(item, dict) and isinstance(item.get("reference"), dict):
        reference = item["reference"]
    if isinstance(reference, dict):
        found = find_contained(medication, reference.get("reference"))
        if found is not None:
            return found.get("code")
    return None


def medication_ingredients(medication: MedicationRead) -> frozenset[str]:
    """Normalised ingredient names: by code first, then by drug names in the texts; a
    Medication without a known code is read through its ingredients."""
    found = codes.ingredients_of_concept(medication.concept)
    if not found and medication.resource is not None:
        parts: set[str] = set()
        for ingredient in dicts(medication.resource.get("ingredient")):
            parts |= codes.ingredients_of_concept(_ingredient_item(ingredient, medication.resource))
        found = frozenset(parts)
    if not found and medication.resource is None and medication.reference_display:
        found = codes.ingredients_named_in([medication.reference_display])
    return found


def is_lenalidomide(mr: Any, resolve_medication: ResolveMedication | None = None) -> bool:
    """Whether a MedicationRequest (or DSTU2 MedicationOrder) orders lenalidomide: by any
    lenalidomide RxNorm or NDC code of the code sets (ingredient, brand, SCD, SBD, grouping
    concepts), directly or through a referenced Medication; by name only when no coding
    carries a code the code sets know."""
    if not is_medication_request(mr):
        return False
    return LENALIDOMIDE in medication_ingredients(read_medication(mr, resolve_medication))


def _strength_from_ingredients(medication: dict[str, Any]) -> float | None:
    """mg per capsule from Medication.ingredient.strength (numerator mg per one capsule)."""
    for ingredient in dicts(medication.get("ingredient")):
        names = codes.ingredients_of_concept(_ingredient_item(ingredient, medication))
        if names and LENALIDOMIDE not in names:
            continue
        ratio = ingredient.get("strength")
        if not isinstance(ratio, dict):
            ratio = ingredient.get("strengthRatio")
        if not isinstance(ratio, dict):
            continue
        numerator_mg = mass_mg(ratio.get("numerator"))
        denominator = ratio.get("denominator")
        if numerator_mg is None:
            continue
        if denominator is None or _is_one_unit(denominator):
            return numerator_mg
    return None


def _is_one_unit(quantity: Any) -> bool:
    """One capsule (or tablet, or unitless 1): the denominator of a per-capsule strength."""
    if not isinstance(quantity, dict) or number(quantity.get("value")) != 1:
        return False
    return is_count_quantity(quantity) or quantity_unit(quantity) is None


def _product_choice(concept: Any) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The lenalidomide products an order's codings name, and the most specific one
    (with a strength, RxNorm before NDC)."""
    products = [p for c in codings(concept) if (p := codes.lenalidomide_product(c.system, c.code))]
    ranked = sorted(products, key=lambda p: (p.get("strength_mg") is None, p.get("system") != codes.RXNORM))
    return products, (ranked[0] if ranked else None)


def _reason_codes(mr: dict[str, Any]) -> tuple[Coding, ...]:
    concepts = list(dicts(mr.get("reasonCode"))) + list(dicts(mr.get("reasonCodeableConcept")))
    concepts += [r["concept"] for r in dicts(mr.get("reason")) if isinstance(r.get("concept"), dict)]
    return tuple(c for concept in concepts for c in codings(concept))


def _reason_refs(mr: dict[str, Any]) -> tuple[str, ...]:
    refs = [r.get("reference") for r in dicts(mr.get("reasonReference"))]
    refs += [r["reference"].get("reference") for r in dicts(mr.get("reason")) if isinstance(r.get("reference"), dict)]
    return tuple(dict.fromkeys(p for r in refs if (p := parse_reference(r))))


def _identifiers(mr: dict[str, Any]) -> tuple[Coding, ...]:
    out = []
    for identifier in dicts(mr.get("identifier")):
        value = text(identifier.get("value"))
        if value:
            kind = identifier.get("type")
            label = next(iter(concept_texts(kind)), None) if isinstance(kind, dict) else None
            out.append(Coding(system=text(identifier.get("system")), code=value, display=label))
    return tuple(out)


def _ref(mr: dict[str, Any]) -> str:
    return resource_ref(mr) or str(mr.get("resourceType") or "MedicationRequest")


def _authored(mr: dict[str, Any]) -> Any:
    return mr.get("authoredOn", mr.get("dateWritten"))


def _display(medication: MedicationRead) -> str | None:
    """The drug as the order names it: the concept's text or a display, else the
    reference's display, else the code sets' display of a known code."""
    texts = concept_texts(medication.concept)
    if texts:
        return texts[0]
    if medication.reference_display:
        return medication.reference_display
    return next((d for c in codings(medication.concept) if (d := codes.drug_display(c.system, c.code))), None)


def map_lenalidomide_order(mr: Any, resolve_medication: ResolveMedication | None = None) -> LenalidomideOrder:
    """The facts of a lenalidomide order (see ``dosage`` for the per-day conventions)."""
    if not isinstance(mr, dict):
        mr = {}
    medication = read_medication(mr, resolve_medication)
    products, chosen = _product_choice(medication.concept)
    strength = chosen.get("strength_mg") if chosen else None
    if strength is None and medication.resource is not None:
        strength = _strength_from_ingredients(medication.resource)
    rxnorm = next(
        (
            p["code"]
            for p in sorted(products, key=lambda p: p.get("strength_mg") is None)
            if p["system"] == codes.RXNORM
        ),
        None,
    )
    notes = [t for n in dicts(mr.get("note")) if (t := text(n.get("text")))]
    dose = summarise(mr.get("dosageInstruction"), strength, notes)
    supply = days_supply(mr.get("dispenseRequest"), dose.capsules_per_day, dose.cycle)
    dispense = mr.get("dispenseRequest")
    refills = integer(dispense.get("numberOfRepeatsAllowed")) if isinstance(dispense, dict) else None
    return LenalidomideOrder(
        ref=_ref(mr),
        status=text(mr.get("status")),
        intent=text(mr.get("intent")),
        authored_on=parse_instant(_authored(mr)),
        brand=any(p.get("brand") for p in products) if products else None,
        rxnorm_code=rxnorm,
        product_display=(chosen.get("display") if chosen else None) or _display(medication),
        strength_mg=strength,
        daily_dose_mg=dose.daily_dose_mg,
        capsules_per_day=dose.capsules_per_day,
        dose_per_administration_mg=dose.dose_per_administration_mg,
        administrations_per_day=dose.administrations_per_day,
        dose_text=dose.dose_text,
        cycle=dose.cycle,
        days_supply=supply.days,
        quantity=supply.quantity,
        stated_days_supply=supply.stated_days,
        computed_days_supply=supply.computed_days,
        refills=refills if refills is not None and refills >= 0 else None,
        reason_codes=_reason_codes(mr),
        reason_refs=_reason_refs(mr),
        identifiers=_identifiers(mr),
        medication_source=medication.source,
    )


def _period(mr: dict[str, Any]) -> tuple[date | None, date | None]:
    """The therapy period: the dosages' ``timing.repeat.boundsPeriod`` (earliest start,
    latest end), else ``dispenseRequest.validityPeriod``."""
    starts: list[date] = []
    ends: list[date] = []
    bounded = 0
    for dosage in dicts(mr.get("dosageInstruction")):
        timing = dosage.get("timing")
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        if isinstance(bounds, dict):
            bounded += 1
            if start := parse_date(bounds.get("start")):
                starts.append(start)
            if end := parse_date(bounds.get("end")):
                ends.append(end)
    if bounded:
        return (min(starts) if starts else None, max(ends) if len(ends) == bounded else None)
    dispense = mr.get("dispenseRequest")
    validity = dispense.get("validityPeriod") if isinstance(dispense, dict) else None
    if isinstance(validity, dict):
        return parse_date(validity.get("start")), parse_date(validity.get("end"))
    return None, None


def map_medication_on_record(
    mr: Any, resolve_medication: ResolveMedication | None = None, is_draft_order: bool = False
) -> MedicationOnRecord:
    """Any medication order as context: its ingredients, status and period."""
    if not isinstance(mr, dict):
        mr = {}
    medication = read_medication(mr, resolve_medication)
    start, end = _period(mr)
    display = _display(medication)
    if display is None and medication.resource is not None:
        display = next(iter(concept_texts(medication.resource.get("code"))), None)
    return MedicationOnRecord(
        ref=_ref(mr),
        ingredients=medication_ingredients(medication),
        status=text(mr.get("status")),
        intent=text(mr.get("intent")),
        authored_on=parse_instant(_authored(mr)),
        is_draft_order=is_draft_order,
        period_start=start,
        period_end=end,
        display=display,
        reason_codes=_reason_codes(mr),
    )
