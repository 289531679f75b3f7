"""One ``update`` suggestion per draft, applying every rewrite the cards ask of it (CONTRACT.md,
"Suggestions").

An EHR that applies an ``update`` by replacing the whole resource (the CDS Hooks sandbox does)
would undo one card's fix when it applies another card's suggestion built from the same original
draft. So the cards do not build suggestions of their own: each says what it wants changed
(``Asks``), this module applies all of it to the draft in one resource, puts that one suggestion
on the first card that asked, labelled with every change it makes, and has the other cards refer
to it. A draft offered for deletion (a contraindication) is offered no rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_mappers.facts import CaseFacts

from .common import FINDING_KEY, SUGGESTION_LINE_RESERVE, update_suggestion
from .order_rewrite import capsule_product, generic_product, with_medication, with_once_daily_dose
from .rems import rewritten_order

# The words a card's finding code goes by when another card's text refers to it.
CARD_NAMES = {"generic-substitution": "Revlimid", "dose-limit": "dose", "rems": "REMS"}


@dataclass(frozen=True)
class Asks:
    """What the cards of one order want changed in its draft."""

    generic: bool = False  # generic-substitution: brand ordered
    dose_mg: float | None = None  # dose-limit: the ceiling to order instead
    cycle_text: str | None = None  # the dose rewrite keeps the cycle in the dosage text
    supply: bool = False  # rems: days-supply unmet
    refills: bool = False  # rems: refills unmet

    def any(self) -> bool:
        return self.generic or self.dose_mg is not None or self.supply or self.refills


@dataclass(frozen=True)
class Change:
    code: str  # the finding code of the card that asked
    words: str  # in the label
    description: str  # in the action's description


def compose(case: CaseFacts, draft: dict[str, Any], asks: Asks) -> tuple[dict[str, Any], list[Change]] | None:
    """The draft with every asked rewrite applied, in an order where none undoes another:
    the product, then the dose (which scales the quantity to the same days), then the supply
    (which scales the quantity to 28 days) and refills. ``None`` when nothing can be rewritten."""
    order = case.order
    resource, changes = draft, []
    if asks.generic:
        generic = generic_product(order.strength_mg)
        if generic is not None:
            resource = with_medication(resource, generic)
            words = f"generic lenalidomide{f' {order.strength_mg:g} mg' if order.strength_mg else ''}"
            changes.append(
                Change("generic-substitution", words, f"{generic['display']} (RxNorm {generic['code']}) for Revlimid")
            )
    if asks.dose_mg is not None:
        brand = bool(order.brand) and not asks.generic
        product = capsule_product(asks.dose_mg, brand=brand)
        dosed = (
            with_once_daily_dose(
                resource,
                product=product,
                dose_mg=asks.dose_mg,
                capsules_per_day_before=order.capsules_per_day,
                cycle_text=asks.cycle_text,
            )
            if product is not None
            else None
        )
        if dosed is not None:
            resource = dosed
            if changes:  # the generic's strength is the dose's now
                changes[0] = Change(changes[0].code, "generic lenalidomide", changes[0].description)
            changes.append(
                Change(
                    "dose-limit",
                    f"{asks.dose_mg:g} mg once daily",
                    f"1 capsule of {product['display']} once daily ({asks.dose_mg:g} mg/day), "  # type: ignore[index]
                    "quantity scaled to the same days",
                )
            )
    if asks.supply or asks.refills:
        rewritten = rewritten_order(case, resource)
        if rewritten is not None:
            resource = rewritten
            if asks.supply:
                changes.append(Change("rems", "28-day supply", "a 28-day supply, quantity scaled"))
            if asks.refills:
                changes.append(Change("rems", "no refills", "no refills"))
    if not changes:
        return None
    return resource, changes


def _deleted(cards: list[dict[str, Any]], ref: str) -> bool:
    return any(
        action.get("type") == "delete" and action.get("resourceId") == ref
        for card in cards
        for suggestion in card.get("suggestions", ())
        for action in suggestion.get("actions", ())
    )


def _code(card: dict[str, Any]) -> str:
    return card["extension"][FINDING_KEY]["code"]


def attach(cards: list[dict[str, Any]], case: CaseFacts, draft: dict[str, Any] | None, asks: Asks) -> None:
    """Put the one update of ``draft`` on the first card that asked, and tell every card that
    asked where it is. Changes ``cards`` in place."""
    if not asks.any() or not isinstance(draft, dict) or draft.get("resourceType") != "MedicationRequest":
        return
    if _deleted(cards, case.order.ref):
        return
    composed = compose(case, draft, asks)
    if composed is None:
        return
    resource, changes = composed
    label = "Rewrite: " + ", ".join(change.words for change in changes)
    description = "Order " + "; ".join(change.description for change in changes) + "."
    codes = list(dict.fromkeys(change.code for change in changes))
    asking = [card for card in cards if _code(card) in codes]
    carrier = asking[0]
    carrier["suggestions"] = [update_suggestion(label, description, resource), *carrier.get("suggestions", [])]
    carrier["selectionBehavior"] = "at-most-one"
    for card in asking:
        where = "below" if card is carrier else f"on the {CARD_NAMES.get(_code(carrier), _code(carrier))} card"
        line = f"Accept “{label}” ({where})."
        assert len(line) <= SUGGESTION_LINE_RESERVE, line  # the cards keep this much room for it
        card["detail"] += f"\n\n{line}"
