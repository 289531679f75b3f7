"""Observation to facts: the lab values and variant findings CP.PHAR.71 judges.

Which codes measure what, and the unit factors, are data (``data/observations.json``);
every code comes from the terminology groups of ``codesets.json``. Lenient: an
Observation that is not final/amended/corrected, or whose value cannot be read, gives a
fact without a number (the rules then answer ``unknown``), never an error.
"""

from __future__ import annotations

from typing import Any

from . import codes
from .datatypes import codings, dicts, number, parse_date, resource_ref, text
from .facts import Coding, LabObservation

# Observation.status values whose result can be relied on.
_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})


@codes.table
def _labs() -> dict[tuple[str | None, str], tuple[str, str, dict[str, float]]]:
    """(system, code) -> (kind, canonical unit, unit -> factor)."""
    out: dict[tuple[str | None, str], tuple[str, str, dict[str, float]]] = {}
    for row in codes.load_json("observations.json").get("labs", []):
        for code in row["codes"]:
            entry = codes.find_in_group(row["group"], codes.normalise_system("http://loinc.org"), code)
            if entry is None:  # only codes the terminology lists
                continue
            factors = {unit.lower(): float(factor) for unit, factor in row["units"].items()}
            out[(codes.normalise_system(entry["system"]), entry["code"])] = (
                row["kind"],
                row["canonical_unit"],
                factors,
            )
    return out


@codes.table
def _variants() -> tuple[dict[str, Any], ...]:
    return tuple(codes.load_json("observations.json").get("variants", []))


def _has_code(concept: Any, code: str) -> bool:
    return any(coding.code == code for coding in codings(concept))


@codes.table
def _judged_codes() -> frozenset[str]:
    """Every code that can make an Observation a fact (a lab or a variant's question): an
    Observation with none of them is skipped before anything else of it is read."""
    return frozenset(code for _, code in _labs()) | frozenset(row["code"] for row in _variants())


def _variant(resource: dict[str, Any], found: list[Coding], ref: str, effective: Any) -> LabObservation | None:
    for row in _variants():
        if not any(coding.code == row["code"] for coding in found):
            continue
        genes = [
            component
            for component in dicts(resource.get("component"))
            if _has_code(component.get("code"), row["gene_component"])
            and _has_code(component.get("valueCodeableConcept"), row["gene"])
        ]
        if not genes:
            continue
        present = True if _has_code(resource.get("valueCodeableConcept"), row["present"]) else None
        return LabObservation(ref=ref, kind=row["kind"], value=None, unit=None, effective=effective, present=present)
    return None


def map_observation(resource: Any) -> LabObservation | None:
    """The fact of one Observation, or ``None`` when the policy does not judge it."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
        return None
    status = text(resource.get("status"))
    if status is not None and status.lower() in {"entered-in-error", "cancelled"}:
        return None
    coded = codings(resource.get("code"))
    judged = _judged_codes()
    if not any(coding.code in judged for coding in coded):
        return None
    ref = resource_ref(resource) or "Observation"
    period = resource.get("effectivePeriod")
    effective = parse_date(resource.get("effectiveDateTime")) or (
        parse_date(period.get("start")) if isinstance(period, dict) else None
    )
    variant = _variant(resource, coded, ref, effective)
    if variant is not None:
        return variant
    for coding in coded:
        if coding.code is None:
            continue
        found = _labs().get((codes.normalise_system(coding.system), coding.code.strip()))
        if found is None:
            continue
        kind, canonical, factors = found
        quantity = resource.get("valueQuantity")
        value = number(quantity.get("value")) if isinstance(quantity, dict) else None
        unit = (text(quantity.get("code")) or text(quantity.get("unit"))) if isinstance(quantity, dict) else None
        factor = factors.get(unit.lower()) if unit else None
        usable = value is not None and factor is not None and (status is None or status.lower() in _RESULT_STATUSES)
        return LabObservation(
            ref=ref,
            kind=kind,
            value=round(value * factor, 3) if usable and value is not None and factor is not None else None,
            unit=canonical if usable else unit,
            effective=effective,
        )
    return None


def map_observations(resources: Any) -> tuple[LabObservation, ...]:
    return tuple(fact for resource in dicts(resources) if (fact := map_observation(resource)))
