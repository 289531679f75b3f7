"""``pa-assessment``: how likely prior authorization is under CP.PHAR.71.

The card shows what is open: when every criterion is met, a short note (the approval duration
and where the criteria are); otherwise only the open or failing criteria, the met ones counted
in one line. Every criterion, with its evidence, stays in the finding extension.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_mappers.facts import CaseFacts

from ..rules.rems import PregnancyFinding
from .common import make_card
from .dose_limit import INDICATION_NAMES
from .text import CROSS, cell, fit_sections, join_words, plural, record_notes

MAX_DETAIL_APPROVED = 600
MAX_DETAIL = 1200
STATUS_LABEL = {"not-met": f"{CROSS} not met", "unknown": "open"}

# A criterion by its role, in a clinician's words: its name in the table, what the summary
# asks documentation of, what the summary says when it fails.
ROLE_NAMES = {
    "diagnosis": ("Diagnosis", "the diagnosis", "diagnosis not covered by this policy"),
    "prescriber": ("Prescriber", "the prescriber's specialty", "prescriber not a covered specialist"),
    "age": ("Age", "the patient's age", "patient under 18"),
    "use": ("Use", "the regimen or use", "use not covered"),
    "concurrency": (
        "No thalidomide or pomalidomide",
        "that thalidomide or pomalidomide is stopped",
        "thalidomide or pomalidomide beside it",
    ),
    "generic": ("Brand", "why brand Revlimid (an exception)", "brand Revlimid without an exception"),
    "dose": ("Dose", "support for the dose", "dose above the plan's limit"),
}
# Section II (continued therapy) asks other things under the same roles.
CONTINUED_NAMES = {
    "diagnosis": ("Current therapy", "current lenalidomide therapy", "not currently on lenalidomide"),
    "use": ("Response", "the response to therapy", "no response to therapy"),
}
# "(a, b, c, d, e, or f)", "(a-o)", "(i or ii)": the letters a criterion's text names.
_LETTERS = re.compile(r"\s*\((?:[a-z]+(?:-[a-z]+)?(?:,? (?:or |and )?[a-z]+)*)\)\s*$")
MAX_ALTERNATIVES = 6


def _status(result: Any) -> str:
    status = result.status
    return status.value if hasattr(status, "value") else str(status)


def _short_clause(clause: str) -> str:
    return clause.replace("CP.PHAR.71 ", "")


def _names(assessment: Any, result: Any) -> tuple[str, str, str]:
    role = next((role for role, clause in assessment.role_clauses.items() if clause == result.clause), None)
    if assessment.pathway == "continued" and role in CONTINUED_NAMES:
        return CONTINUED_NAMES[role]
    if role in ROLE_NAMES:
        return ROLE_NAMES[role]
    return (result.text, result.text, result.text)


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


def _first_phrase(text: str) -> str:
    """An alternative's opening words: up to its first comma, colon or parenthesis."""
    return re.split(r",|:| \(| and one| and both", text, maxsplit=1)[0].strip()


def alternatives(result: Any) -> str | None:
    """The alternatives of a clause, each named (``4.a with dexamethasone; 4.b ...``), when
    its reason does not already name them; ``None`` for a clause without alternatives."""
    children = getattr(result, "children", ())
    if not children:
        return None
    labels = [_short_clause(child.clause).split(".", 2)[-1] for child in children]
    reason = result.reason or ""
    if any(re.search(rf"\b{re.escape(label)}\b", reason) for label in labels):
        return None  # the reason already names the alternatives, or the one the record is on
    if len(children) > MAX_ALTERNATIVES:
        return f"one of the {len(children)} listed in {_short_clause(result.clause)}"
    return "one of: " + "; ".join(
        f"{label} {_first_phrase(child.text)}" for label, child in zip(labels, children, strict=True)
    )


def criterion_text(result: Any) -> str:
    """The criterion's text without a list of letters it does not spell out."""
    return _LETTERS.sub("", result.text) if getattr(result, "children", ()) else result.text


def _summary(assessment: Any) -> str:
    name = INDICATION_NAMES.get(assessment.indication, assessment.indication)
    not_met = [r for r in assessment.criteria if _status(r) == "not-met"]
    unknown = [r for r in assessment.criteria if _status(r) == "unknown"]
    if assessment.likelihood == "likely-approved":
        months = f"; {assessment.approval_months}-month approval" if assessment.approval_months else ""
        return f"Prior auth likely approved for {name}: every criterion met{months}"
    if assessment.likelihood == "likely-denied":
        first = not_met[0]
        why = first.reason if first.reason and len(first.reason) <= 90 else _names(assessment, first)[2]
        more = f" (and {plural(len(not_met) - 1, 'more criterion', 'more criteria')})" if len(not_met) > 1 else ""
        return f"Prior auth likely denied: {why}{more}"
    if assessment.indication == "unknown":
        return "Prior auth needs documentation: no diagnosis covered by the policy is on record"
    asks = join_words([_names(assessment, r)[1] for r in unknown])
    return f"Prior auth for {name} needs documentation of {asks}"


def _contraindication_line(pregnancy: PregnancyFinding | None) -> list[str]:
    """Cards in one answer agree: a contraindication on record is said here too (the
    likelihood stays what the criteria make it)."""
    if pregnancy is None or pregnancy.indicator != "critical":
        return []
    return [
        f"**Contraindicated:** the record shows a {pregnancy.text}; the policy lists pregnancy as a "
        "contraindication (Appendix C). The likelihood above is judged on the criteria alone."
    ]


def _approved_detail(case: CaseFacts, assessment: Any) -> list[tuple[int, list[str]]]:
    name = INDICATION_NAMES.get(assessment.indication, assessment.indication)
    months = (
        f" Approval duration if approved: **{assessment.approval_months} months**."
        if assessment.approval_months
        else ""
    )
    return [
        (
            0,
            [
                f"All {len(assessment.criteria)} criteria of **{', '.join(assessment.clauses)}** ({name}, "
                f"{assessment.pathway} therapy) are met on the record as of {case.as_of.isoformat()}.{months}"
            ],
        ),
        (
            2,
            [
                "Each criterion, with the record it rests on, is in this card's finding "
                "(`lenalidomide-cds.finding`), for the prior-authorization request."
            ],
        ),
    ]


def _open_detail(case: CaseFacts, assessment: Any) -> list[tuple[int, list[str]]]:
    name = INDICATION_NAMES.get(assessment.indication, assessment.indication)
    shown = [r for r in assessment.criteria if _status(r) != "met"]
    shown.sort(key=lambda r: _status(r) != "not-met")
    table = ["| Criterion | Status | What is missing |", "|---|---|---|"]
    for result in shown:
        label = f"{_names(assessment, result)[0]} ({_short_clause(result.clause)})"
        why = result.reason or criterion_text(result)
        options = alternatives(result)
        if options:
            why = f"{why}; {options}"
        table.append(f"| {cell(label)} | {STATUS_LABEL[_status(result)]} | {cell(why)} |")
    met = [r for r in assessment.criteria if _status(r) == "met"]
    names = join_words([_names(assessment, r)[0].lower() for r in met])
    months = assessment.approval_months
    return [
        (
            2,
            [
                f"Judged under **{', '.join(assessment.clauses)}** ({name}, {assessment.pathway} therapy) "
                f"on the record as of {case.as_of.isoformat()}."
            ],
        ),
        (0, table),
        (1, [f"Met on record: {len(met)} of {len(assessment.criteria)} ({names})."] if met else []),
        (3, [f"Approval duration if approved: **{months} months**."] if months else []),
    ]


def pa_assessment_card(
    case: CaseFacts, assessment: Any, source_label: str, pregnancy: PregnancyFinding | None = None
) -> dict[str, Any]:
    approved = assessment.likelihood == "likely-approved"
    sections = _approved_detail(case, assessment) if approved else _open_detail(case, assessment)
    sections += [(0, _contraindication_line(pregnancy)), (1, record_notes(case))]
    detail = fit_sections(sections, MAX_DETAIL_APPROVED if approved else MAX_DETAIL)
    return make_card(
        code="pa-assessment",
        summary=_summary(assessment),
        detail=detail,
        indicator="info" if approved else "warning",
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
