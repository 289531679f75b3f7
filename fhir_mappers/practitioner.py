"""The ordering user's specialty from Practitioner and PractitionerRole (NUCC taxonomy)."""

from __future__ import annotations

from typing import Any

from . import codes
from .datatypes import codings, dicts, resource_ref, text
from .facts import PrescriberFacts

_PRESCRIBER_TYPES = ("Practitioner", "PractitionerRole")


def _nucc_codes(concepts: Any) -> set[str]:
    return {
        c.code.upper()
        for concept in dicts(concepts)
        for c in codings(concept)
        if c.code and codes.normalise_system(c.system) == codes.NUCC
    }


def specialty_codes_of(resource: Any) -> set[str]:
    """NUCC codes of a PractitionerRole (``specialty``, ``code``) or a Practitioner
    (``qualification.code``). An inactive PractitionerRole contributes nothing."""
    if not isinstance(resource, dict):
        return set()
    kind = resource.get("resourceType")
    if kind == "PractitionerRole":
        if resource.get("active") is False:
            return set()
        return _nucc_codes(resource.get("specialty")) | _nucc_codes(resource.get("code"))
    if kind == "Practitioner":
        return _nucc_codes([q.get("code") for q in dicts(resource.get("qualification"))])
    return set()


def map_prescriber(resources: Any, user_ref: str | None) -> PrescriberFacts:
    """The prescriber's NUCC codes and their categories (oncology, hematology, immunology)
    over every Practitioner / PractitionerRole given; ``known`` is False when none is."""
    found = [r for r in dicts(resources) if r.get("resourceType") in _PRESCRIBER_TYPES]
    specialty_codes: set[str] = set()
    for resource in found:
        specialty_codes |= specialty_codes_of(resource)
    categories = {category for code in specialty_codes for category in codes.specialty_categories(code)}
    ref = text(user_ref) or next((r for r in map(resource_ref, found) if r), None)
    return PrescriberFacts(
        ref=ref,
        specialty_codes=frozenset(specialty_codes),
        specialties=frozenset(categories),
        known=bool(found),
    )
