"""``dose-limit``: the daily dose is above the policy's ceiling for the indication."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import fmt_mg, make_card, override_reason

INDICATION_NAMES = {
    "multiple-myeloma": "multiple myeloma",
    "myelodysplastic-syndrome": "myelodysplastic syndrome",
    "mantle-cell-lymphoma": "mantle cell lymphoma",
    "marginal-zone-lymphoma": "marginal zone lymphoma",
    "follicular-lymphoma": "follicular lymphoma",
    "nccn-off-label": "this off-label use",
    "unknown": "any covered indication",
    "other": "this use",
}


def cycle_text(case: CaseFacts) -> str | None:
    """The order's cycle in words, kept in a rewritten dosage text."""
    cycle = case.order.cycle
    return f"days 1-{cycle.days_on} of each {cycle.cycle_length_days}-day cycle" if cycle else None


def dose_limit_card(
    case: CaseFacts, *, ceiling_mg: float, indication: str, clause: str, source_label: str
) -> dict[str, Any] | None:
    """The card; its rewrite to the ceiling is composed with the others' (``order_update``).
    Several overlapping drafts are one daily dose: the card names them all, and offers no
    rewrite (which of them to change is the prescriber's choice)."""
    order = case.order
    dose = case.daily_dose_mg
    if dose is None or dose <= ceiling_mg:
        return None
    name = INDICATION_NAMES.get(indication, indication)
    if case.dose_orders:
        what = f"The {len(case.dose_orders)} lenalidomide orders taken together ({', '.join(case.dose_orders)}) work"
    else:
        what = f"The order works{f' ({order.dose_text})' if order.dose_text else ''}"
    detail = [
        f"{what} out to **{fmt_mg(dose)} per day**. "
        f"Under **{clause}** the plan approves at most **{fmt_mg(ceiling_mg)} per day** for {name}, "
        "unless the dose is supported by practice guidelines or peer-reviewed literature for the use "
        "(the prescriber must submit the supporting evidence).",
    ]
    summed = {"ordersSummed": list(case.dose_orders)} if case.dose_orders else {}
    return make_card(
        code="dose-limit",
        summary=(f"Lenalidomide {fmt_mg(dose)}/day is above the plan limit of {fmt_mg(ceiling_mg)}/day for {name}"),
        detail="\n".join(detail),
        indicator="warning",
        source_label=source_label,
        orders=list(case.dose_orders or (order.ref,)),
        clauses=[clause],
        finding_extra={"dailyDoseMg": dose, "ceilingMgPerDay": ceiling_mg, **summed},
        override_reasons=[
            override_reason("dose-supported-by-literature", "Dose supported by guidelines or literature"),
        ],
    )
