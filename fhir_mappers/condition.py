"""Condition (R4, and STU3/DSTU2 plain-code statuses) to facts.

Which codes name a policy indication is data: ``data/indications.json`` maps each
indication to terminology groups of ``codesets.json`` (optionally filtered by display).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from . import codes
from .datatypes import cached_by_code, codings, concept_texts, first_code, parse_date, resource_ref
from .facts import ConditionFacts

_ACTIVE = frozenset({"active", "recurrence", "relapse"})
_NOT_A_DIAGNOSIS = frozenset({"refuted", "entered-in-error"})


@cache
def _indication_index() -> dict[tuple[str | None, str], tuple[frozenset[str], bool, frozenset[str]]]:
    """(system, normalised code) -> (indications, the code says "in relapse", features).

    A row may name an ``indication``, ``features`` (what the code itself states, e.g.
    ``del-5q`` for D46.C), or both."""
    index: dict[tuple[str | None, str], tuple[frozenset[str], bool, frozenset[str]]] = {}
    for row in codes.load_json("indications.json").get("indications", []):
        pattern = re.compile(row["display_pattern"], re.IGNORECASE) if row.get("display_pattern") else None
        names = frozenset([row["indication"]] if row.get("indication") else [])
        features = frozenset(row.get("features", ()))
        for entry in codes.group_entries(row["group"]):
            if pattern is not None and not pattern.search(entry["display"]):
                continue
            key = _key(entry["system"], entry["code"])
            if key is None:
                continue
            known, relapse, flags = index.get(key, (frozenset(), False, frozenset()))
            relapse = relapse or (bool(names) and "relapse" in entry["display"].lower())
            index[key] = (known | names, relapse, flags | features)
    return index


def _key(system: Any, code: Any) -> tuple[str | None, str] | None:
    system_ = codes.normalise_system(system)
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        return None
    return (system_, codes.icd10_key(code) if system_ == codes.ICD10CM else code.strip())


def indications_of_coding(system: Any, code: Any) -> tuple[frozenset[str], bool]:
    """(policy indications a coding names, whether the code says "in relapse")."""
    names, relapse, _ = _lookup(system, code)
    return names, relapse


def features_of_coding(system: Any, code: Any) -> frozenset[str]:
    """Disease features a coding states (e.g. ``del-5q``)."""
    return _lookup(system, code)[2]


@cached_by_code
def _lookup(system: Any, code: Any) -> tuple[frozenset[str], bool, frozenset[str]]:
    key = _key(system, code)
    empty: tuple[frozenset[str], bool, frozenset[str]] = (frozenset(), False, frozenset())
    found = _indication_index().get(key, empty) if key else empty
    if key and not found[0] and _is_uncovered_neoplasm(key):
        return (frozenset({OTHER}), False, found[2])
    return found


# A neoplasm the policy does not list (ICD-10-CM chapter 2, C00-D49, with no row in
# indications.json) names the pseudo-indication "other": section I.G / III of the policy.
OTHER = "other"
_NEOPLASM = re.compile(r"^(C\d\d|D[0-4]\d)(\.|$)")


def _is_uncovered_neoplasm(key: tuple[str | None, str]) -> bool:
    system, code = key
    return system == codes.ICD10CM and bool(_NEOPLASM.match(code))


def _abated(resource: dict[str, Any]) -> bool:
    for name, value in resource.items():
        if name.startswith("abatement") and value not in (None, False, "", {}, []):
            return True
    return False


def _is_active(resource: dict[str, Any], verification: str | None) -> bool:
    """Active when clinicalStatus is active, recurrence or relapse; with no clinicalStatus,
    active unless an abatement is recorded. A refuted or entered-in-error diagnosis never is."""
    if verification in _NOT_A_DIAGNOSIS:
        return False
    clinical = first_code(resource.get("clinicalStatus"))
    if clinical is not None:
        return clinical.lower() in _ACTIVE
    return not _abated(resource)


def map_condition(resource: Any) -> ConditionFacts | None:
    """The facts of a Condition; ``None`` when the value is not one."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Condition":
        return None
    verification = first_code(resource.get("verificationStatus"))
    found = codings(resource.get("code"))
    indications: set[str] = set()
    features: set[str] = set()
    relapsed = False
    for coding in found:
        names, relapse, flags = _lookup(coding.system, coding.code)
        indications |= names
        features |= flags
        relapsed = relapsed or (relapse and bool(names))
    if len(indications) > 1:
        indications.discard(OTHER)  # a code of a covered indication outweighs an uncovered one
    texts = concept_texts(resource.get("code"))
    onset_period = resource.get("onsetPeriod")
    onset = parse_date(resource.get("onsetDateTime")) or (
        parse_date(onset_period.get("start")) if isinstance(onset_period, dict) else None
    )
    recorded = resource.get("recordedDate", resource.get("assertedDate", resource.get("dateRecorded")))
    return ConditionFacts(
        ref=resource_ref(resource) or "Condition",
        codes=tuple(found),
        text=texts[0] if texts else None,
        active=_is_active(resource, verification.lower() if verification else None),
        indications=frozenset(indications),
        relapsed=True if relapsed else None,
        onset=onset,
        recorded=parse_date(recorded),
        verification_status=verification.lower() if verification else None,
        features=frozenset(features),
    )
