"""``pa-assessment``: how likely prior authorization is under CP.PHAR.71, criterion by criterion."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import make_card
from .dose_limit import INDICATION_NAMES

DATA_NAMES = {
    "patient": "patient demographics",
    "conditions": "diagnoses",
    "medications": "medication history",
    "coverage": "coverage",
    "observations": "laboratory results",
    "procedures": "procedures",
    "practitioner": "prescriber",
    "practitionerRoles": "prescriber roles",
}
STATUS_LABEL = {"met": "✅ met", "not-met": "❌ not met", "unknown": "❔ needs documentation"}


def _status(result: Any) -> str:
    status = result.status
    return status.value if hasattr(status, "value") else str(status)


def _short_clause(clause: str) -> str:
    return clause.replace("CP.PHAR.71 ", "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def criteria_finding(criteria: Any) -> list[dict[str, Any]]:
    out = []
    for result in criteria:
        entry: dict[str, Any] = {
            "clause": result.clause,
            "status": _status(result),
            "text": result.text,
            "evidence": list(result.evidence),
        }
        if result.reason:
            entry["reason"] = result.reason
        out.append(entry)
    return out


def _summary(assessment: Any) -> str:
    name = INDICATION_NAMES.get(assessment.indication, assessment.indication)
    section = ", ".join(_short_clause(c) for c in assessment.clauses)
    not_met = [r for r in assessment.criteria if _status(r) == "not-met"]
    unknown = [r for r in assessment.criteria if _status(r) == "unknown"]
    if assessment.likelihood == "likely-approved":
        months = f", {assessment.approval_months}-month approval" if assessment.approval_months else ""
        return f"Prior auth likely approved: {name} criteria met (CP.PHAR.71 {section}){months}"
    if assessment.likelihood == "likely-denied":
        first = not_met[0]
        more = f" and {len(not_met) - 1} more" if len(not_met) > 1 else ""
        # The reason when it fits the summary; the criterion itself otherwise (the detail has both).
        why = first.text
        if first.reason:
            head = first.reason.split(": ")[0]
            why = first.reason if len(first.reason) <= 80 else head if len(head) <= 80 else first.text
        return f"Prior auth likely denied: {why} ({_short_clause(first.clause)}){more}"
    if assessment.indication == "unknown":
        return "Prior auth needs documentation: no diagnosis covered by CP.PHAR.71 is on record"
    clauses = ", ".join(_short_clause(r.clause) for r in unknown)
    return (
        f"Prior auth needs documentation: {len(unknown)} of {len(assessment.criteria)} criteria unconfirmed ({clauses})"
    )


def _detail(case: CaseFacts, assessment: Any) -> str:
    name = INDICATION_NAMES.get(assessment.indication, assessment.indication)
    lines = [
        f"Assessed under **{', '.join(assessment.clauses)}**, {assessment.pathway} therapy, "
        f"for **{name}**, on the record as of {case.as_of.isoformat()}.",
        "",
        "| Clause | Status | Criterion | On record |",
        "|---|---|---|---|",
    ]
    for result in assessment.criteria:
        why = result.reason or ", ".join(result.evidence) or ""
        status = STATUS_LABEL[_status(result)]
        lines.append(f"| {_short_clause(result.clause)} | {status} | {_cell(result.text)} | {_cell(why)} |")
    if case.unavailable:
        missing = ", ".join(sorted(DATA_NAMES.get(key, key) for key in case.unavailable))
        lines += [
            "",
            f"⚠️ Could not be read from the EHR: **{missing}**. Criteria that depend on it are shown as "
            "needing documentation, not as unmet.",
        ]
    unknown = [r for r in assessment.criteria if _status(r) == "unknown"]
    if unknown:
        lines += ["", "**To send with the request:**"]
        lines += [f"- {_short_clause(r.clause)}: {r.reason or r.text}" for r in unknown]
    if assessment.approval_months:
        lines += ["", f"Approval duration if approved: **{assessment.approval_months} months**."]
    return "\n".join(lines)


def pa_assessment_card(case: CaseFacts, assessment: Any, source_label: str) -> dict[str, Any]:
    indicator = "info" if assessment.likelihood == "likely-approved" else "warning"
    return make_card(
        code="pa-assessment",
        summary=_summary(assessment),
        detail=_detail(case, assessment),
        indicator=indicator,
        source_label=source_label,
        orders=[case.order.ref],
        clauses=list(assessment.clauses),
        finding_extra={
            "likelihood": assessment.likelihood,
            "indication": assessment.indication,
            "pathway": assessment.pathway,
            "approvalMonths": assessment.approval_months,
            "criteria": criteria_finding(assessment.criteria),
        },
    )
