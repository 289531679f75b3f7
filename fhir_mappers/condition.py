"""Condition (R4, and STU3/DSTU2 plain-code statuses) to facts.

Which codes name a policy indication is data: ``data/indications.json`` maps each
indication to terminology groups of ``codesets.json`` (optionally filtered by display).
"""

from __future__ import annotations

import re
from typing import Any

from . import codes
from .datatypes import cached_by_code, codings, concept_texts, first_code, parse_date, resource_ref
from .facts import ConditionFacts

# Condition.clinicalStatus (FHIR condition-clinical) that put a diagnosis on record: the
# disease was diagnosed and is being lived with, including in remission (maintenance
# therapy, I.A.4.c, is given exactly then). "inactive" and "resolved" say the record holds
# the disease as gone: not on record, and the rules ask to confirm it (README, "FHIR
# conventions").
DIAGNOSIS_STATUSES = frozenset({"active", "recurrence", "relapse", "remission"})
# ... of which those that say the disease is present now (a pregnancy, a relapse).
CURRENT_STATUSES = frozenset({"active", "recurrence", "relapse"})
RELAPSE_STATUSES = frozenset({"recurrence", "relapse"})
_NOT_A_DIAGNOSIS = frozenset({"refuted", "entered-in-error"})


@codes.table
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


def diagnosis_status(resource: dict[str, Any]) -> tuple[bool, bool, str | None]:
    """(counts as a diagnosis on record, the disease is present now, the clinicalStatus code).

    The one place that says whether a Condition counts as a diagnosis: a refuted or
    entered-in-error one never does; a stated clinicalStatus counts when it is one of
    ``DIAGNOSIS_STATUSES`` (``CURRENT_STATUSES`` for "present now"); with none stated (Epic
    encounter diagnoses, converted problem lists) it counts unless an abatement is recorded."""
    verification = first_code(resource.get("verificationStatus"))
    clinical = first_code(resource.get("clinicalStatus"))
    status = clinical.lower() if clinical else None
    if verification is not None and verification.lower() in _NOT_A_DIAGNOSIS:
        return False, False, status
    if status is not None:
        return status in DIAGNOSIS_STATUSES, status in CURRENT_STATUSES, status
    present = not _abated(resource)
    return present, present, None


def map_condition(resource: Any) -> ConditionFacts | None:
    """The facts of a Condition; ``None`` when the value is not one."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Condition":
        return None
    verification = first_code(resource.get("verificationStatus"))
    found = codings(resource.get("code"))
    indications: set[str] = set()
    features: set[str] = set()
    counts, current, status = diagnosis_status(resource)
    relapsed = False
    for coding in found:
        names, relapse, flags = _lookup(coding.system, coding.code)
        indications |= names
        features |= flags
        relapsed = relapsed or (relapse and bool(names))
    # A clinicalStatus "relapse" / "recurrence" says what an "in relapse" code says.
    relapsed = relapsed or (counts and status in RELAPSE_STATUSES and bool(indications))
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
        active=counts,
        indications=frozenset(indications),
        relapsed=True if relapsed else None,
        onset=onset,
        recorded=parse_date(recorded),
        verification_status=verification.lower() if verification else None,
        features=frozenset(features),
        clinical_status=status,
        current=current,
    )
