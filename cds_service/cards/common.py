"""What every card has: uuid, summary under 140 characters, Markdown detail, indicator,
source with the plan's label and a CRD card-type topic, and our finding extension."""

from __future__ import annotations

import uuid
from typing import Any

CARD_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
OVERRIDE_REASON_SYSTEM = "urn:lenalidomide-cds:override-reason"
FINDING_KEY = "lenalidomide-cds.finding"
MAX_SUMMARY = 139
# Room a card keeps in its detail for the line naming the order's one update suggestion
# (order_update.attach appends it: "Accept “Rewrite: …” (on the Revlimid card).").
SUGGESTION_LINE_RESERVE = 130

# finding code -> CRD card type (CONTRACT.md, "Cards").
TOPICS = {
    "generic-substitution": "therapy-alternatives-opt",
    "dose-limit": "limits",
    "rems": "clinical-reminder",
    "pa-assessment": "coverage-info",
    "concurrent-imid": "duplicate-therapy",
    "pregnancy": "contraindication",
    "rems-monitoring": "clinical-reminder",
}


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars), for the drafts a suggestion or
    system action rewrites. ``copy.deepcopy`` keeps a memo of every object for cycles and
    shared references that parsed JSON cannot have; this is several times cheaper, and the
    depth is bounded by the request's nesting limit (``CDS_MAX_JSON_DEPTH``)."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


def new_uuid() -> str:
    return str(uuid.uuid4())


def fit_summary(text: str) -> str:
    """CDS Hooks wants a summary under 140 characters; cut on a word if we ever exceed it."""
    if len(text) <= MAX_SUMMARY:
        return text
    cut = text[: MAX_SUMMARY - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def override_reason(code: str, display: str) -> dict[str, str]:
    return {"system": OVERRIDE_REASON_SYSTEM, "code": code, "display": display}


def make_card(
    *,
    code: str,
    summary: str,
    detail: str,
    indicator: str,
    source_label: str,
    orders: list[str],
    clauses: list[str],
    finding_extra: dict[str, Any] | None = None,
    suggestions: list[dict] | None = None,
    links: list[dict] | None = None,
    override_reasons: list[dict] | None = None,
) -> dict[str, Any]:
    finding: dict[str, Any] = {"code": code, "orders": orders, "clauses": clauses}
    if finding_extra:
        finding.update(finding_extra)
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": fit_summary(summary),
        "detail": detail,
        "indicator": indicator,
        "source": {
            "label": source_label,
            "topic": {"system": CARD_TYPE_SYSTEM, "code": TOPICS[code]},
        },
        "extension": {
            FINDING_KEY: finding,
            "davinci-crd.associated-resource": [{"reference": ref} for ref in orders],
        },
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    if links:
        card["links"] = links
    if override_reasons:
        card["overrideReasons"] = override_reasons
    return card


def update_suggestion(label: str, description: str, resource: dict) -> dict[str, Any]:
    return {
        "label": label,
        "uuid": new_uuid(),
        "isRecommended": True,
        "actions": [{"type": "update", "description": description, "resource": resource}],
    }


def fmt_mg(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:g} mg"
