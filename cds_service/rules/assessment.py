"""The prior-authorization assessment of one lenalidomide order under CP.PHAR.71.

``assess`` picks the criteria set (the indication on record, else the fallback set for an
unknown indication), judges every numbered criterion, and derives what the cards need: the
likelihood, the approval duration, the dose ceiling and the concurrent IMiD orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from fhir_mappers.facts import CaseFacts

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


def choose_criteria_set(case: CaseFacts, policy: Policy) -> CriteriaSet:
    """The indication an active Condition on record supports, preferring one the order
    gives as its reason, then the policy's order; the unknown-indication set otherwise."""
    best: tuple[int, int, CriteriaSet] | None = None
    for position, criteria_set in enumerate(policy.indications.values()):
        conditions = indication_conditions(case, criteria_set.name)
        if not conditions:
            continue
        candidate = (reason_rank(case, conditions[0]), position, criteria_set)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best else policy.unknown_indication


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
    results = tuple(evaluate(criterion, case, predicates) for criterion in criteria_set.criteria)
    roles = criteria_set.role_clauses
    by_clause = {result.clause: result for result in results}

    concurrency = by_clause.get(roles.get("concurrency", ""))
    concurrent = concurrency.evidence if concurrency and concurrency.status is Status.NOT_MET else ()

    ceiling = criteria_set.dose_ceiling_mg_per_day
    dose = case.order.daily_dose_mg
    exceeds = None if ceiling is None or dose is None else dose > ceiling

    line_of_business = case.coverage.line_of_business if case.coverage else None
    months, note = approval_months(policy, criteria_set.pathway, line_of_business, requested_months)

    return Assessment(
        likelihood=likelihood_of(results),
        indication=criteria_set.name,
        pathway=criteria_set.pathway,
        approval_months=months,
        criteria=results,
        clauses=(criteria_set.clause,),
        dose_ceiling_mg=ceiling,
        dose_exceeds_ceiling=exceeds,
        concurrent_imid_refs=concurrent,
        role_clauses=roles,
        approval_note=note,
    )
