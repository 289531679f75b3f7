"""``generic-substitution``: Revlimid ordered; offer generic lenalidomide of the same strength."""

from __future__ import annotations

from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import make_card, override_reason
from .order_rewrite import generic_product


def generic_substitution_card(case: CaseFacts, clause: str, source_label: str) -> dict[str, Any] | None:
    """The card; its rewrite of the draft is composed with the others' (``order_update``)."""
    order = case.order
    if order.brand is not True:
        return None
    generic = generic_product(order.strength_mg)
    product = order.product_display or "Revlimid"
    instead = f"**{generic['display']}** (RxNorm {generic['code']})" if generic else "generic lenalidomide"
    detail = [
        f"**{product}** is the brand product. Under **{clause}** the plan covers Revlimid only when "
        "generic lenalidomide is contraindicated, has caused clinically significant adverse effects, "
        "or is unavailable because of a shortage.",
        "",
        f"Order {instead} of the same strength instead; if an exception applies, keep the brand and "
        "document it with the prior-authorization request.",
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
        override_reasons=[
            override_reason("generic-contraindicated", "Generic lenalidomide is contraindicated"),
            override_reason("generic-adverse-effects", "Clinically significant adverse effects on generic"),
            override_reason("generic-shortage", "Generic lenalidomide unavailable (shortage)"),
        ],
    )
