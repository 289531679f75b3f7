"""Coverage to facts: the active coverage and its line of business.

How Coverage.type codes map to a line of business is data (``data/line_of_business.json``);
plans that codes cannot tell apart (marketplace) come from ``plan_overrides``, which the
service configures: Coverage.class value, payor identifier or payor reference -> line.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from . import codes
from .datatypes import codings, dicts, integer, parse_date, reference, resource_ref, text
from .facts import Coding, CoverageFacts


@codes.table
def _rules() -> tuple[tuple[str | None, str | None, str | None, re.Pattern[str] | None, str], ...]:
    out = []
    for rule in codes.load_json("line_of_business.json").get("rules", []):
        pattern = re.compile(rule["display_pattern"], re.IGNORECASE) if rule.get("display_pattern") else None
        out.append(
            (
                codes.normalise_system(rule.get("system")),
                rule.get("code_prefix"),
                rule.get("group"),
                pattern,
                rule["line_of_business"],
            )
        )
    return tuple(out)


def _rule_matches(rule: tuple[str | None, str | None, str | None, re.Pattern[str] | None, str], coding: Coding) -> bool:
    system, prefix, group, pattern, _ = rule
    if coding.code is None or codes.normalise_system(coding.system) != system:
        return False
    if prefix is not None:
        return coding.code.startswith(prefix)
    if group is not None and pattern is not None:
        entry = codes.find_in_group(group, coding.system, coding.code)
        return entry is not None and bool(pattern.search(entry["display"]))
    return False


def _override_keys(coverage: dict[str, Any]) -> list[str]:
    keys = [v for c in dicts(coverage.get("class")) if (v := text(c.get("value")))]
    for payor in dicts(coverage.get("payor")):
        identifier = payor.get("identifier")
        if isinstance(identifier, dict) and (value := text(identifier.get("value"))):
            keys.append(value)
        if value := reference(payor):
            keys.append(value)
    return keys


def line_of_business_of(coverage: Any, plan_overrides: dict[str, str] | None = None) -> str | None:
    """ "medicaid" | "commercial" | an override's value | ``None`` when the codes do not tell."""
    if not isinstance(coverage, dict):
        return None
    if isinstance(plan_overrides, dict):
        for key in _override_keys(coverage):
            if isinstance(plan_overrides.get(key), str):
                return plan_overrides[key]
    found = codings(coverage.get("type"))
    for rule in _rules():
        if any(_rule_matches(rule, coding) for coding in found):
            return rule[4]
    return None


def _in_force(coverage: dict[str, Any], on: date | None) -> bool:
    period = coverage.get("period")
    if on is None or not isinstance(period, dict):
        return True
    start, end = parse_date(period.get("start")), parse_date(period.get("end"))
    return (start is None or start <= on) and (end is None or on <= end)


def map_coverage(
    resources: Any, plan_overrides: dict[str, str] | None = None, on: date | None = None
) -> CoverageFacts | None:
    """The active Coverage (in force on ``on`` when given); of several, the one with the
    lowest ``order``, else the first. ``None`` when there is no active Coverage."""
    active = [
        r
        for r in dicts(resources)
        if r.get("resourceType") == "Coverage" and r.get("status") == "active" and _in_force(r, on)
    ]
    if not active:
        return None

    def rank(coverage: dict[str, Any]) -> float:
        order = integer(coverage.get("order"))
        return order if order is not None else math.inf

    chosen = min(active, key=rank)
    payer = next((d for p in dicts(chosen.get("payor")) if (d := text(p.get("display")))), None)
    return CoverageFacts(
        ref=resource_ref(chosen) or "Coverage",
        status="active",
        line_of_business=line_of_business_of(chosen, plan_overrides),
        payer_display=payer,
    )
