"""Rewrite a draft lenalidomide MedicationRequest for a card's suggestion.

A suggestion's ``update`` action carries the whole draft with only what the suggestion
changes: the product (generic for brand), or the dose (down to the plan's ceiling).
Everything else the prescriber wrote stays as it was.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .common import json_copy

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


@cache
def _products() -> tuple[dict, ...]:
    text = resources.files("fhir_mappers").joinpath("data/codesets.json").read_text(encoding="utf-8")
    return tuple(p for p in json.loads(text)["lenalidomide_products"] if p["system"] == RXNORM)


def capsule_product(strength_mg: float, brand: bool) -> dict[str, str] | None:
    """The RxNorm SCD (generic) or SBD (Revlimid) oral capsule of this strength."""
    for product in _products():
        if product["brand"] == brand and product["strength_mg"] == strength_mg and "Oral Capsule" in product["display"]:
            return {"system": RXNORM, "code": product["code"], "display": product["display"]}
    return None


def generic_product(strength_mg: float | None) -> dict[str, str] | None:
    """Generic lenalidomide of the same strength; the ingredient when strength is unknown."""
    if strength_mg is not None:
        return capsule_product(strength_mg, brand=False)
    for product in _products():
        if product["display"] == "lenalidomide":
            return {"system": RXNORM, "code": product["code"], "display": product["display"]}
    return None


def with_medication(draft: dict[str, Any], coding: dict[str, str]) -> dict[str, Any]:
    """The draft ordering ``coding`` instead of its current medication."""
    updated = json_copy(draft)
    reference = updated.pop("medicationReference", None)
    updated["medicationCodeableConcept"] = {"coding": [dict(coding)], "text": coding["display"]}
    ref = reference.get("reference") if isinstance(reference, dict) else None
    if isinstance(ref, str) and ref.startswith("#") and isinstance(updated.get("contained"), list):
        still_used = json.dumps({k: v for k, v in updated.items() if k != "contained"})
        if ref not in still_used:
            updated["contained"] = [
                r for r in updated["contained"] if not (isinstance(r, dict) and r.get("id") == ref[1:])
            ]
            if not updated["contained"]:
                del updated["contained"]
    return updated


def _dose_unit_is_mass(dose_quantity: dict[str, Any]) -> bool:
    unit = str(dose_quantity.get("code") or dose_quantity.get("unit") or "").lower()
    return unit in {"mg", "milligram", "milligrams"}


def with_once_daily_dose(
    draft: dict[str, Any],
    *,
    product: dict[str, str],
    dose_mg: float,
    capsules_per_day_before: float | None,
    cycle_text: str | None,
) -> dict[str, Any] | None:
    """The draft at one ``product`` capsule (``dose_mg``) once daily; ``None`` when the
    dosage is too complex to rewrite safely (several dosage lines)."""
    dosages = draft.get("dosageInstruction")
    if not isinstance(dosages, list) or len(dosages) != 1 or not isinstance(dosages[0], dict):
        return None
    updated = with_medication(draft, product)
    dosage = updated["dosageInstruction"][0]

    rate = dosage.get("doseAndRate")
    entries = rate if isinstance(rate, list) else [rate] if isinstance(rate, dict) else []
    old_quantity = next(
        (e["doseQuantity"] for e in entries if isinstance(e, dict) and isinstance(e.get("doseQuantity"), dict)),
        None,
    )
    if old_quantity is not None and _dose_unit_is_mass(old_quantity):
        new_quantity = {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}
    else:
        new_quantity = {"value": 1, "unit": "capsule", "system": UCUM, "code": "{capsule}"}
    dosage["doseAndRate"] = [{"doseQuantity": new_quantity}]
    dosage.pop("doseQuantity", None)

    timing = dosage.get("timing") if isinstance(dosage.get("timing"), dict) else {}
    timing = dict(timing)
    timing.pop("code", None)
    repeat = dict(timing.get("repeat") or {}) if isinstance(timing.get("repeat"), dict) else {}
    for key in ("frequencyMax", "periodMax", "timeOfDay", "when", "offset"):
        repeat.pop(key, None)
    repeat.update({"frequency": 1, "period": 1, "periodUnit": "d"})
    timing["repeat"] = repeat
    dosage["timing"] = timing

    schedule = f" on {cycle_text}" if cycle_text else ""
    dosage["text"] = f"Take 1 capsule ({dose_mg:g} mg) by mouth once daily{schedule}"

    dispense = updated.get("dispenseRequest")
    if isinstance(dispense, dict) and isinstance(dispense.get("quantity"), dict) and capsules_per_day_before:
        value = dispense["quantity"].get("value")
        if isinstance(value, int | float) and not isinstance(value, bool) and capsules_per_day_before > 0:
            new_value = value / capsules_per_day_before
            dispense["quantity"] = {
                **dispense["quantity"],
                "value": int(new_value) if new_value == int(new_value) else round(new_value, 2),
            }
    return updated
