"""The Da Vinci CRD 2.2 ``coverage-information`` system action for one lenalidomide order.

The answer is chosen from the PA assessment:

| likelihood          | covered      | pa-needed   | doc-needed | doc-purpose | info-needed |
|---------------------|--------------|-------------|------------|-------------|-------------|
| likely-approved     | covered      | auth-needed | clinical   | withpa      | -           |
| needs-documentation | conditional  | auth-needed | clinical   | withpa      | OTH         |
| likely-denied       | not-covered  | -           | -          | -           | -           |

A needs-documentation answer on a primary hook also names the DTR ``questionnaire`` generated
from the policy (``canonical|version``), whose package the EHR fetches with the
``coverage-assertion-id`` as its ``context``.

Every repetition carries a ``reason`` (text), which CRD's invariants ask for whenever a
doc-purpose, an ``OTH`` info-needed or a not-covered answer is given. ``pa-needed`` is never
``no-auth`` or ``satisfied`` here (lenalidomide always needs PA under CP.PHAR.71), so the
crd-ci-q4 rule (no ``withpa`` with no-auth/satisfied) holds by construction and is tested.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fhir_mappers.facts import CaseFacts

from ..cards.common import json_copy

EXTENSION_URL = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
_ASSERTION_NAMESPACE = uuid.UUID("9b1f6a52-4a8e-4c8e-9d61-3d9c2f0e7a11")


def _status(result: Any) -> str:
    return result.status.value if hasattr(result.status, "value") else str(result.status)


def _short(clause: str) -> str:
    return clause.replace("CP.PHAR.71 ", "")


def assertion_id(case: CaseFacts, assessment: Any, when: date) -> str:
    """Stable for the same order, coverage, day and judgement; new when any of them changes."""
    statuses = ",".join(f"{r.clause}={_status(r)}" for r in assessment.criteria)
    key = "|".join(
        [
            case.order.ref,
            case.coverage.ref if case.coverage else "",
            when.isoformat(),
            assessment.likelihood,
            statuses,
        ]
    )
    return str(uuid.uuid5(_ASSERTION_NAMESPACE, key))


def _reason_text(assessment: Any) -> str:
    unknown = [_short(r.clause) for r in assessment.criteria if _status(r) == "unknown"]
    not_met = [_short(r.clause) for r in assessment.criteria if _status(r) == "not-met"]
    if assessment.likelihood == "likely-denied":
        return f"Not covered under CP.PHAR.71 as ordered: criteria not met ({', '.join(not_met)})"
    if assessment.likelihood == "needs-documentation":
        return f"CP.PHAR.71 prior authorization with documentation of {', '.join(unknown)}"
    return "CP.PHAR.71 criteria met on the record; submit prior authorization with the chart documentation"


# CRD's secondary hooks (order-select, encounter-start, encounter-discharge) SHALL NOT say
# doc-needed clinical/admin (hook-19): there the documentation parts are left out.
PRIMARY_HOOKS = frozenset({"order-sign", "order-dispatch", "appointment-book"})


def coverage_information(
    case: CaseFacts, assessment: Any, when: date, hook: str = "order-sign", questionnaire: str | None = None
) -> dict[str, Any]:
    """The extension; ``questionnaire`` (a DTR canonical, ``|version`` included) is named beside
    doc-needed for a needs-documentation order (CRD crd-ci-q1: only with doc-needed)."""
    if case.coverage is None:
        raise ValueError("coverage-information names the order's Coverage: only for a case that has one")
    parts: list[dict[str, Any]] = [{"url": "coverage", "valueReference": {"reference": case.coverage.ref}}]
    if assessment.likelihood == "likely-denied":
        parts.append({"url": "covered", "valueCode": "not-covered"})
    else:
        covered = "covered" if assessment.likelihood == "likely-approved" else "conditional"
        parts += [
            {"url": "covered", "valueCode": covered},
            {"url": "pa-needed", "valueCode": "auth-needed"},
        ]
        if hook in PRIMARY_HOOKS:
            parts += [
                {"url": "doc-needed", "valueCode": "clinical"},
                {"url": "doc-purpose", "valueCode": "withpa"},
            ]
            if questionnaire and assessment.likelihood == "needs-documentation":
                parts.append({"url": "questionnaire", "valueCanonical": questionnaire})
        if covered == "conditional":
            parts.append({"url": "info-needed", "valueCode": "OTH"})
    parts += [
        {"url": "reason", "valueCodeableConcept": {"text": _reason_text(assessment)}},
        {"url": "date", "valueDate": when.isoformat()},
        {"url": "coverage-assertion-id", "valueString": assertion_id(case, assessment, when)},
    ]
    return {"url": EXTENSION_URL, "extension": parts}


def coverage_information_action(
    case: CaseFacts,
    assessment: Any,
    draft: dict[str, Any] | None,
    when: date,
    hook: str = "order-sign",
    questionnaire: str | None = None,
) -> dict[str, Any] | None:
    """The ``update`` system action, or ``None`` when no active Coverage is known or the
    draft is not an R4 MedicationRequest we can annotate."""
    if case.coverage is None or not isinstance(draft, dict) or draft.get("resourceType") != "MedicationRequest":
        return None
    resource = json_copy(draft)
    existing = resource.get("extension")
    resource["extension"] = [
        *(existing if isinstance(existing, list) else []),
        coverage_information(case, assessment, when, hook, questionnaire),
    ]
    return {
        "type": "update",
        "description": f"Coverage information for {case.order.product_display or 'lenalidomide'} under CP.PHAR.71",
        "resource": resource,
    }
