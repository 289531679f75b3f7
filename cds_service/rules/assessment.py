"""The prior-authorization assessment of one lenalidomide order under CP.PHAR.71.

``assess`` picks the criteria set (the indication on record, else the fallback set for an
unknown indication), judges every numbered criterion, and derives what the cards need: the
likelihood, the approval duration, the dose ceiling and the concurrent IMiD orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fhir_mappers.facts import CaseFacts

from .clinical_predicates import INDICATION_PARAM, is_continued_therapy, is_dose_increase_over
from .evaluator import CriterionResult, Status, evaluate
from .policy import CriteriaSet, Policy
from .predicates import indication_conditions, predicate_functions, reason_rank

Likelihood = Literal["likely-approved", "needs-documentation", "likely-denied"]


@dataclass(frozen=True)
class Assessment:
    likelihood: Likelihood
    indication: str  # "multiple-myeloma", ... or "unknown"
    pathway: str  # "initial" | "continued"
    approval_months: int | None
    # The numbered criteria only, each alternative folded into its parent (I.A.4 is one
    # entry); the alternatives are in each result's ``children``.
    criteria: tuple[CriterionResult, ...]
    clauses: tuple[str, ...]  # the section judged, e.g. ("CP.PHAR.71 I.A",)
    dose_ceiling_mg: float | None
    dose_exceeds_ceiling: bool | None  # None when the daily dose is unknown
    concurrent_imid_refs: tuple[str, ...]
    role_clauses: Mapping[str, str]  # "generic" / "dose" / "concurrency" / ... -> clause id
    approval_note: str | None = None  # why approval_months is what it is, when not plain


def likelihood_of(criteria: tuple[CriterionResult, ...]) -> Likelihood:
    """likely-denied if any criterion is not-met, likely-approved if all are met, else
    needs-documentation (an empty list is never an approval)."""
    statuses = [result.status for result in criteria]
    if Status.NOT_MET in statuses:
        return "likely-denied"
    if statuses and all(status is Status.MET for status in statuses):
        return "likely-approved"
    return "needs-documentation"


# Criteria sets that no diagnosis chooses: section II is judged in place of the diagnosis's
# own set (see ``assess``).
CONTINUED_SET = "continued-therapy"
_RANK = {"likely-approved": 0, "needs-documentation": 1, "likely-denied": 2}


def _judge(criteria_set: CriteriaSet, case: CaseFacts, predicates: Mapping[str, Any]) -> tuple[CriterionResult, ...]:
    return tuple(evaluate(criterion, case, predicates) for criterion in criteria_set.criteria)


def choose_criteria_set(case: CaseFacts, policy: Policy) -> CriteriaSet:
    """The indication best supported by an active Condition on record.

    Every covered indication with an active diagnosis is judged; the one the order names as
    its reason wins, then the best likelihood, then the fewest open criteria, then the
    policy's order. The unknown-indication set when none is on record."""
    predicates = predicate_functions()
    best: tuple[tuple[int, int, int, int], CriteriaSet] | None = None
    for position, criteria_set in enumerate(policy.indications.values()):
        if criteria_set.name == CONTINUED_SET:
            continue
        conditions = indication_conditions(case, criteria_set.name)
        if not conditions:
            continue
        results = _judge(criteria_set, case, predicates)
        unknown = sum(result.status is Status.UNKNOWN for result in results)
        key = (reason_rank(case, conditions[0]), _RANK[likelihood_of(results)], unknown, position)
        if best is None or key < best[0]:
            best = (key, criteria_set)
    return best[1] if best else policy.unknown_indication


def _with_indication(predicates: Mapping[str, Any], indication: str) -> dict[str, Any]:
    """The predicates, each given the indication judged (section II serves every one)."""

    def bind(function: Any) -> Any:
        return lambda case, params: function(case, {**params, INDICATION_PARAM: indication})

    return {name: bind(function) for name, function in predicates.items()}


def approval_months(
    policy: Policy, pathway: str, line_of_business: str | None, requested_months: int | None
) -> tuple[int | None, str | None]:
    """Approval duration and, when it needs one, a note saying how it was decided.

    With the line of business unknown, the duration is given only when every line of
    business would approve the same (12 months unless a commercial request is shorter);
    otherwise it is ``None``.
    """
    rules = policy.approval.get(pathway, {})
    if line_of_business is None:
        possible = {rule.months_for(requested_months) for rule in rules.values()}
        if len(possible) == 1:
            months = possible.pop()
            return months, f"line of business unknown: every line of business approves {months} months"
        return None, "line of business unknown, and the duration depends on it"
    rule = rules.get(line_of_business)
    if rule is None:
        return None, f"line of business {line_of_business!r} is not covered by {policy.id}"
    months = rule.months_for(requested_months)
    if rule.capped_by_request and requested_months is None:
        return months, (
            f"{months} months or the duration of the request, whichever is less; "
            "the order does not state the requested authorization period"
        )
    return months, None


def assess(case: CaseFacts, policy: Policy, *, requested_months: int | None = None) -> Assessment:
    """Judge one lenalidomide order.

    ``requested_months`` is the authorization period asked for, when a caller knows it. It
    is deliberately not derived from the prescription: under the REMS a lenalidomide
    prescription is at most 28 days with no refills, so its supply says nothing about how
    long therapy is requested.
    """
    criteria_set = choose_criteria_set(case, policy)
    predicates = predicate_functions()
    indication = criteria_set.name
    ceiling = criteria_set.dose_ceiling_mg_per_day
    dose = case.daily_dose_mg  # the overlapping drafts summed (x.7)
    exceeds = None if ceiling is None or dose is None else dose > ceiling
    continued = policy.indications.get(CONTINUED_SET)
    if continued is not None and criteria_set is not policy.unknown_indication and is_continued_therapy(case):
        # Section II.A: lenalidomide on record for >= 30 days. The dose rule is II.A.5 (a dose
        # increase above the indication's ceiling), so the dose-limit card speaks only then.
        criteria_set = continued
        predicates = _with_indication(predicates, indication)
        exceeds = is_dose_increase_over(case, ceiling)
    results = _judge(criteria_set, case, predicates)
    roles = criteria_set.role_clauses
    by_clause = {result.clause: result for result in results}
    clauses: tuple[str, ...] = (criteria_set.clause,)
    if criteria_set is policy.unknown_indication:
        diagnosis = by_clause.get(roles.get("diagnosis", ""))
        if diagnosis is not None and diagnosis.status is Status.NOT_MET:
            indication = "other"  # only diagnoses the policy does not cover: I.G / III
            clauses = (f"{policy.id} I.G", f"{policy.id} III.A")

    concurrency = by_clause.get(roles.get("concurrency", ""))
    concurrent = concurrency.evidence if concurrency and concurrency.status is Status.NOT_MET else ()

    line_of_business = case.coverage.line_of_business if case.coverage else None
    months, note = approval_months(policy, criteria_set.pathway, line_of_business, requested_months)

    return Assessment(
        likelihood=likelihood_of(results),
        indication=indication,
        pathway=criteria_set.pathway,
        approval_months=months,
        criteria=results,
        clauses=clauses,
        dose_ceiling_mg=ceiling,
        dose_exceeds_ceiling=exceeds,
        concurrent_imid_refs=concurrent,
        role_clauses=roles,
        approval_note=note,
    )
