"""The judgement a needs-documentation coverage-information stands for, as the DTR store keeps it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fhir_mappers.facts import CaseFacts

from ..rules.assessment import Assessment
from ..rules.evaluator import CriterionResult
from ..storage.dtr import ClauseJudgement, DtrContext


def _flatten(results: Iterable[CriterionResult]) -> Iterator[CriterionResult]:
    for result in results:
        yield result
        yield from _flatten(result.children)


def _not_the_patient(evidence: Iterable[str]) -> tuple[str, ...]:
    """Evidence references without the Patient's own (the age rests on it): no patient id is kept."""
    return tuple(ref for ref in evidence if not ref.startswith("Patient/"))


def kept_judgement(case: CaseFacts, assessment: Assessment, assertion_id: str, questionnaire: str) -> DtrContext:
    """Every clause judged (alternatives included) with its status and evidence references:
    what ``$questionnaire-package`` pre-fills from. No resource content, no patient id."""
    return DtrContext(
        assertion_id=assertion_id,
        questionnaire=questionnaire,
        coverage_ref=case.coverage.ref if case.coverage else "",
        order_ref=case.order.ref,
        indication=assessment.indication,
        pathway=assessment.pathway,
        likelihood=assessment.likelihood,
        criteria={
            result.clause: ClauseJudgement(result.status.value, _not_the_patient(result.evidence))
            for result in _flatten(assessment.criteria)
        },
    )
