"""Numbers the policy states more than once must agree; ``parse_policy`` adds what this finds.

CP.PHAR.71 writes each dose ceiling in several places: the section's ``dose_ceiling_mg_per_day`` (the
dose-limit card's suggestion), the ``max_mg_per_day`` of its X.7.a clause and that clause's wording, and
again in continued therapy (II.A.5.a.i-iii) with its own wording; the fallback set for a request without a
diagnosis uses the highest of them. Editing one ceiling is five edits; a missed one is refused here, named,
so the service never starts with two answers to one question. (The section ceiling against its X.7.a param
is checked in ``policy.py`` itself.)

Clause text against params: wherever a clause's wording states the number its test takes (``Dose does not
exceed 10 mg per day`` beside ``max_mg_per_day: 10``, ``Age ≥ 18 years`` beside ``years: 18``), the two
must be equal: the PDF's wording is what a reviewer reads, the param is what the service does.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .evaluator import Criterion
    from .policy import CriteriaSet, Policy

_MG = re.compile(r"(\d+(?:\.\d+)?)\s*mg\b")
# test -> (the param holding the number, how the clause's wording states it)
STATED_NUMBERS: dict[str, tuple[str, re.Pattern[str]]] = {
    "daily_dose_at_most": ("max_mg_per_day", _MG),
    "dose_increase_at_most": ("max_mg_per_day", _MG),
    "minimum_age": ("years", re.compile(r"(\d+)\s*years?\b")),
    "receiving_for_days": ("days", re.compile(r"(\d+)\s*days?\b")),
    "lab_value": ("value", re.compile(r"(\d+(?:\.\d+)?)\s*(?:mU/mL|g/dL)")),
}


def problems(policy: Policy) -> list[str]:
    found: list[str] = []
    for criteria in policy.criteria_sets():
        for criterion in criteria.walk():
            found += _text_against_params(criterion)
        found += _continued_ceilings(policy, criteria)
    found += _fallback_ceiling(policy)
    return found


def _text_against_params(criterion: Criterion) -> list[str]:
    stated = STATED_NUMBERS.get(criterion.test or "")
    if stated is None:
        return []
    param, pattern = stated
    value = criterion.params.get(param)
    if not isinstance(value, int | float):
        return []
    return [
        f"{criterion.clause}: the text says {number} but {param} is {value:g}"
        for number in pattern.findall(criterion.text)
        if float(number) != float(value)
    ]


def _initial_ceilings(policy: Policy) -> dict[str, CriteriaSet]:
    return {
        name: criteria
        for name, criteria in policy.indications.items()
        if criteria.pathway == "initial" and criteria.dose_ceiling_mg_per_day is not None
    }


def _continued_ceilings(policy: Policy, criteria: CriteriaSet) -> list[str]:
    """Each ``dose_increase_at_most`` branch must carry the ceiling of every indication it covers, and
    every indication with a ceiling must be covered by exactly one branch."""
    branches = [c for c in criteria.walk() if c.test == "dose_increase_at_most"]
    if not branches:
        return []
    ceilings = _initial_ceilings(policy)
    found: list[str] = []
    covered: dict[str, list[str]] = {name: [] for name in ceilings}
    for branch in branches:
        limit = float(branch.params["max_mg_per_day"])
        named = list(branch.params.get("indications") or ())
        excluded = list(branch.params.get("other_than") or ())
        found += [
            f"{branch.clause}: names {name!r}, which is not an indication of the policy"
            for name in named + excluded
            if name not in policy.indications
        ]
        scope = named if "indications" in branch.params else [n for n in ceilings if n not in excluded]
        for name in scope:
            if name not in ceilings:
                continue
            covered[name].append(branch.clause)
            ceiling = ceilings[name].dose_ceiling_mg_per_day
            if ceiling != limit:
                found.append(
                    f"{branch.clause}: max_mg_per_day {limit:g} disagrees with {ceilings[name].clause} "
                    f"({name}) dose_ceiling_mg_per_day {ceiling:g}"
                )
    for name, clauses in covered.items():
        if len(clauses) != 1:
            where = ", ".join(clauses) if clauses else "none"
            found.append(f"{criteria.clause}: a dose increase for {name} must fall under one ceiling branch ({where})")
    return found


def _fallback_ceiling(policy: Policy) -> list[str]:
    """A request without a diagnosis is held to the highest ceiling of the policy (docs/policy.md)."""
    fallback = policy.unknown_indication
    ceilings = [
        c.dose_ceiling_mg_per_day for c in _initial_ceilings(policy).values() if c.dose_ceiling_mg_per_day is not None
    ]
    if not ceilings or fallback.dose_ceiling_mg_per_day is None or fallback.dose_ceiling_mg_per_day == max(ceilings):
        return []
    return [
        f"unknown-indication: dose_ceiling_mg_per_day {fallback.dose_ceiling_mg_per_day:g} is not the highest "
        f"ceiling of the indications ({max(ceilings):g})"
    ]
