"""``dose-limit``: the daily dose is above the policy's ceiling for the indication."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import fmt_mg, make_card, override_reason, update_suggestion
from .order_rewrite import capsule_product, with_once_daily_dose

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


def dose_limit_card(
    case: CaseFacts,
    draft: dict[str, Any] | None,
    *,
    ceiling_mg: float,
    indication: str,
    clause: str,
    source_label: str,
) -> dict[str, Any] | None:
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
    suggestions = []
    product = capsule_product(ceiling_mg, brand=bool(order.brand))
    if product is not None and isinstance(draft, dict) and draft.get("resourceType") == "MedicationRequest":
        cycle = (
            f"days 1-{order.cycle.days_on} of each {order.cycle.cycle_length_days}-day cycle" if order.cycle else None
        )
        rewritten = with_once_daily_dose(
            draft,
            product=product,
            dose_mg=ceiling_mg,
            capsules_per_day_before=order.capsules_per_day,
            cycle_text=cycle,
        )
        if rewritten is not None:
            detail += [
                "",
                f"Accept the suggestion to order **{product['display']}**, one capsule once daily "
                f"({fmt_mg(ceiling_mg)}/day); the dispense quantity is scaled to the same supply.",
            ]
            suggestions.append(
                update_suggestion(
                    label=f"Change to {fmt_mg(ceiling_mg)} once daily",
                    description=f"Order {product['display']}, 1 capsule once daily ({fmt_mg(ceiling_mg)}/day).",
                    resource=rewritten,
                )
            )
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
        suggestions=suggestions or None,
        override_reasons=[
            override_reason("dose-supported-by-literature", "Dose supported by guidelines or literature"),
        ],
    )
