"""Da Vinci CRD 2.2 configuration: the options each service advertises in discovery
(``davinci-crd.configuration-options``) and how a request's ``davinci-crd.configuration``
is honoured.

- ``coverage-info`` (boolean): return the coverage-information system action. Default
  ``true`` on order-sign, ``false`` on order-select (a secondary CRD hook: the action is
  returned there only when the client asks, and then never with ``doc-needed``
  clinical/admin, hook-19). Sent as ``false`` it also drops the ``pa-assessment`` card,
  whose CRD topic is ``coverage-info`` (dev-5).
- one boolean per other card topic we return (dev-5), default ``true``: ``false`` drops
  those cards.
- ``max-cards`` (integer, default 10): at most that many cards, the most severe first.

Unknown options are ignored (dev-17); a wrongly typed value is ignored too (dev-6): the
default applies. No option is required (dev-15).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..cards.common import TOPICS

CRD_VERSION = "2.2"
CONFIGURATION_KEY = "davinci-crd.configuration"
DEFAULT_MAX_CARDS = 10

_TOPIC_NAMES = {
    "therapy-alternatives-opt": ("Optional therapy alternatives", "Offer generic lenalidomide for a Revlimid order."),
    "limits": ("Limits", "Flag a daily dose above the policy's ceiling for the indication."),
    "clinical-reminder": ("Clinical reminders", "Lenalidomide REMS requirements and monitoring reminders."),
    "duplicate-therapy": ("Duplicate therapy", "Thalidomide or pomalidomide beside lenalidomide."),
    "contraindication": ("Contraindications", "Pregnancy or a positive pregnancy test."),
}
_SEVERITY = {"critical": 0, "warning": 1, "info": 2}


def coverage_info_default(hook: str) -> bool:
    return hook == "order-sign"


def configuration_options(hook: str) -> list[dict[str, Any]]:
    """The ``davinci-crd.configuration-options`` of a service for ``hook``."""
    on_sign = coverage_info_default(hook)
    options: list[dict[str, Any]] = [
        {
            "code": "coverage-info",
            "type": "boolean",
            "name": "Coverage information",
            "description": (
                "Return the CRD coverage-information system action for each lenalidomide order "
                f"(default {'on' if on_sign else 'off'} for {hook}). False also drops the prior-authorization card."
            ),
            "default": on_sign,
        }
    ]
    for topic in sorted(set(TOPICS.values()) - {"coverage-info"}):
        name, description = _TOPIC_NAMES.get(topic, (topic, f"Cards of CRD topic {topic}."))
        options.append({"code": topic, "type": "boolean", "name": name, "description": description, "default": True})
    options.append(
        {
            "code": "max-cards",
            "type": "integer",
            "name": "Maximum cards",
            "description": "Return at most this many cards, the most severe first.",
            "default": DEFAULT_MAX_CARDS,
        }
    )
    return options


def discovery_extension(hook: str) -> dict[str, Any]:
    return {"davinci-crd.version": [CRD_VERSION], "davinci-crd.configuration-options": configuration_options(hook)}


def requested(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request's ``davinci-crd.configuration`` object, or ``None`` when it sends none."""
    extension = body.get("extension")
    config = extension.get(CONFIGURATION_KEY) if isinstance(extension, Mapping) else None
    return dict(config) if isinstance(config, Mapping) else None


def _flag(config: Mapping[str, Any] | None, code: str, default: bool) -> bool:
    value = config.get(code) if config else None
    return value if isinstance(value, bool) else default


def wants_coverage_information(hook: str, config: Mapping[str, Any] | None) -> bool:
    """Whether to return the coverage-information action on ``hook``."""
    if hook not in ("order-sign", "order-select"):
        return False
    return _flag(config, "coverage-info", coverage_info_default(hook))


def filter_cards(cards: list[dict[str, Any]], config: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Drop the cards of topics configured ``false``; keep at most ``max-cards``."""
    if not config:
        return cards
    kept = [card for card in cards if _flag(config, _topic(card), True)]
    limit = config.get("max-cards")
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < len(kept):
        order = sorted(range(len(kept)), key=lambda i: (_SEVERITY.get(str(kept[i].get("indicator")), 3), i))
        chosen = set(order[:limit])
        kept = [card for i, card in enumerate(kept) if i in chosen]
    return kept


def _topic(card: Mapping[str, Any]) -> str:
    source = card.get("source")
    topic = source.get("topic") if isinstance(source, Mapping) else None
    code = topic.get("code") if isinstance(topic, Mapping) else None
    return code if isinstance(code, str) else ""
