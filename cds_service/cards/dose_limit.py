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
    """The card; its rewrite to the ceiling is composed with the others' (``order_update``)."""
    order = case.order
    if order.daily_dose_mg is None or order.daily_dose_mg <= ceiling_mg:
        return None
    name = INDICATION_NAMES.get(indication, indication)
    how = f" ({order.dose_text})" if order.dose_text else ""
    detail = [
        f"The order works out to **{fmt_mg(order.daily_dose_mg)} per day**{how}. "
        f"Under **{clause}** the plan approves at most **{fmt_mg(ceiling_mg)} per day** for {name}, "
        "unless the dose is supported by practice guidelines or peer-reviewed literature for the use "
        "(the prescriber must submit the supporting evidence).",
    ]
    return make_card(
        code="dose-limit",
        summary=(
            f"Lenalidomide {fmt_mg(order.daily_dose_mg)}/day is above the plan limit of "
            f"{fmt_mg(ceiling_mg)}/day for {name}"
        ),
        detail="\n".join(detail),
        indicator="warning",
        source_label=source_label,
        orders=[order.ref],
        clauses=[clause],
        finding_extra={"dailyDoseMg": order.daily_dose_mg, "ceilingMgPerDay": ceiling_mg},
        override_reasons=[
            override_reason("dose-supported-by-literature", "Dose supported by guidelines or literature"),
        ],
    )
