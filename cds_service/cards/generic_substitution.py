"""``generic-substitution``: Revlimid ordered; offer generic lenalidomide of the same strength."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import make_card, override_reason, update_suggestion
from .order_rewrite import generic_product, with_medication


def generic_substitution_card(
    case: CaseFacts, draft: dict[str, Any] | None, clause: str, source_label: str
) -> dict[str, Any] | None:
    order = case.order
    if order.brand is not True:
        return None
    generic = generic_product(order.strength_mg)
    product = order.product_display or "Revlimid"
    detail = [
        f"**{product}** is the brand product. Under **{clause}** the plan covers Revlimid only when "
        "generic lenalidomide is contraindicated, has caused clinically significant adverse effects, "
        "or is unavailable because of a shortage.",
        "",
    ]
    suggestions = []
    if generic is not None and isinstance(draft, dict) and draft.get("resourceType") == "MedicationRequest":
        detail.append(
            f"Accept the suggestion to order **{generic['display']}** (RxNorm {generic['code']}) instead; "
            "dose, schedule, quantity and supply stay as written."
        )
        suggestions.append(
            update_suggestion(
                label=f"Order generic {generic['display']}",
                description=f"Replace {product} with {generic['display']} (RxNorm {generic['code']}).",
                resource=with_medication(draft, generic),
            )
        )
    else:
        detail.append("Order generic lenalidomide of the same strength instead.")
    detail += [
        "",
        "If one of the exceptions applies, keep the brand and document it with the prior-authorization request.",
    ]
    strength = f" {order.strength_mg:g} mg" if order.strength_mg else ""
    return make_card(
        code="generic-substitution",
        summary=f"Revlimid ordered: the plan requires generic lenalidomide{strength} unless an exception applies",
        detail="\n".join(detail),
        indicator="warning",
        source_label=source_label,
        orders=[order.ref],
        clauses=[clause],
        suggestions=suggestions or None,
        override_reasons=[
            override_reason("generic-contraindicated", "Generic lenalidomide is contraindicated"),
            override_reason("generic-adverse-effects", "Clinically significant adverse effects on generic"),
            override_reason("generic-shortage", "Generic lenalidomide unavailable (shortage)"),
        ],
    )
