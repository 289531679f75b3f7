"""``rems``: the Lenalidomide REMS checklist of one order, and ``rems-monitoring``: the
monitoring the REMS prescriber guide asks for (CBC in del(5q) MDS, thromboprophylaxis).

On order-select the ``rems`` card is short (the risk category and the first thing to do); on
order-sign it is the full checklist, with suggestions that rewrite the order to a 28-day
supply without refills when the order asks for more.
"""

from __future__ import annotations

import math
from typing import Any

from fhir_mappers.facts import CaseFacts

from ..rules.rems import MET, UNKNOWN, UNMET, RemsJudgement, load_rems
from .common import json_copy, make_card, override_reason, update_suggestion

_MARK = {"met": "✅ met", "unmet": "❌ unmet", "unverified": "❔ to confirm"}
UCUM = "http://unitsofmeasure.org"


def _links() -> list[dict[str, str]]:
    return [{"label": link["label"], "url": link["url"], "type": "absolute"} for link in load_rems()["links"]]


def _label(category: str) -> str:
    return load_rems()["risk_categories"].get(category, "Risk category unknown")


def _contraception(category: str) -> str:
    texts = load_rems()["contraception_text"]
    if category in load_rems()["reproductive_potential"] or category == UNKNOWN:
        return texts["female-reproductive-potential"]
    if category in {"adult-male", "male-child"}:
        return texts["male"]
    return texts["female-not-reproductive-potential"]


def rewritten_order(case: CaseFacts, draft: dict[str, Any] | None) -> dict[str, Any] | None:
    """The draft at a 28-day supply (quantity scaled down) and no refills."""
    if not isinstance(draft, dict):
        return None
    limits = load_rems()["limits"]
    updated = json_copy(draft)
    dispense = updated.get("dispenseRequest")
    dispense = dict(dispense) if isinstance(dispense, dict) else {}
    dispense["numberOfRepeatsAllowed"] = limits["max_refills"]
    supply, cap = case.order.days_supply, limits["max_days_supply"]
    if supply is not None and supply > cap:
        quantity = dispense.get("quantity")
        value = quantity.get("value") if isinstance(quantity, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            dispense["quantity"] = {**quantity, "value": math.floor(value * cap / supply)}
        dispense["expectedSupplyDuration"] = {"value": cap, "unit": "days", "system": UCUM, "code": "d"}
    updated["dispenseRequest"] = dispense
    return updated


def _suggestions(case: CaseFacts, draft: dict[str, Any] | None, j: RemsJudgement) -> list[dict] | None:
    unmet = {s.id for s in j.steps if s.status == UNMET} & {"days-supply", "refills"}
    updated = rewritten_order(case, draft) if unmet else None
    if updated is None:
        return None
    return [
        update_suggestion(
            "Rewrite as a 28-day supply with no refills",
            "Set the supply to at most 28 days and the refills to 0, as the Lenalidomide REMS requires.",
            updated,
        )
    ]


def _finding(j: RemsJudgement) -> dict[str, Any]:
    return {
        "riskCategory": j.risk_category,
        "riskCategoryReason": j.why,
        "prescription": j.prescription,
        "steps": [{"id": s.id, "status": s.status, "text": s.text} for s in j.steps],
    }


def rems_card(
    case: CaseFacts, draft: dict[str, Any] | None, j: RemsJudgement, source_label: str, hook: str = "order-sign"
) -> dict[str, Any] | None:
    """One card per order while any REMS step is unmet or unverified (CONTRACT.md)."""
    open_steps = j.open_steps
    if not open_steps:
        return None
    indicator = "critical" if j.unlawful else "warning"
    # The first thing to do: what the order must change, then the pregnancy test, then the list's order.
    first = min(open_steps, key=lambda s: (s.status != UNMET, s.id != "pregnancy-test"))
    category = _label(j.risk_category)
    common = {
        "code": "rems",
        "indicator": indicator,
        "source_label": source_label,
        "orders": [case.order.ref],
        "clauses": j.clauses,
        "finding_extra": _finding(j),
        "links": _links(),
    }
    if hook == "order-select":
        return make_card(
            # The action without its parenthesis keeps the summary whole (the detail has it all).
            summary=f"Lenalidomide REMS – {category}: {first.action.split(' (')[0].rstrip('.')}",
            detail=(
                f"**Risk category:** {category} ({j.why}).\n\n**First:** {first.action}\n\n"
                f"{len(open_steps)} of {len(j.steps)} REMS requirements are not shown by the record; "
                "the full checklist comes when the order is signed."
            ),
            **common,
        )
    lines = [
        f"**Patient risk category:** {category} — {j.why}. Write it on the prescription.",
        f"**Prescription:** {j.prescription} ({j.prescription_why}).",
        "",
        "| requirement | status | what the record shows / what to do |",
        "|---|---|---|",
    ]
    for s in j.steps:
        todo = "" if s.status == MET else f" **{s.action}**"
        lines.append(f"| `{s.id}` | {_MARK[s.status]} | {s.text}.{todo} |")
    lines += ["", f"**Contraception:** {_contraception(j.risk_category)}"]
    if any(s.status == UNMET for s in j.steps):
        lines += ["", "Unmet requirements must change before lenalidomide can be dispensed."]
    if j.unlawful:
        why = j.pregnancy.text if j.pregnancy is not None else "no valid negative pregnancy test is on record"
        lines += ["", f"**Dispensing would not be permitted as ordered**: {why}."]
    lines += ["", f"Lenalidomide REMS: 1-888-423-5436. Source: {load_rems()['source']}."]
    return make_card(
        summary=f"Lenalidomide REMS – {category}: {len(open_steps)} requirement(s) to complete or confirm",
        detail="\n".join(lines),
        suggestions=_suggestions(case, draft, j),
        override_reasons=[
            override_reason("rems-completed-outside-ehr", "Completed outside the EHR"),
            override_reason("rems-verified-with-program", "Verified with Lenalidomide REMS"),
        ],
        **common,
    )


def rems_monitoring_card(case: CaseFacts, j: RemsJudgement, source_label: str) -> dict[str, Any] | None:
    """The monitoring the guide asks for, when something is due."""
    due = [m for m in j.monitoring if m.status == "due"]
    if not due:
        return None
    names = {"cbc": "CBC monitoring (del(5q) MDS)", "thromboprophylaxis": "Thromboprophylaxis"}
    return make_card(
        code="rems-monitoring",
        summary="Lenalidomide: " + "; ".join(names[m.id] for m in due) + " due",
        detail="\n".join(f"- **{names[m.id]}:** {m.text}. ({m.cite})" for m in due),
        indicator="info",
        source_label=source_label,
        orders=[case.order.ref],
        clauses=list(dict.fromkeys(m.cite for m in due)),
        finding_extra={
            "monitoring": [{"id": m.id, "status": m.status, "text": m.text, "evidence": list(m.evidence)} for m in due]
        },
        links=_links()[:1],
    )
