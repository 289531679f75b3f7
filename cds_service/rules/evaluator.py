"""A small three-valued (Kleene) evaluator for policy criteria.

A criterion is a tree. A leaf names a *test* (a predicate registered by name, see
``predicates.py``) with its params; a branch combines children with ``all_of`` or
``any_of``. A branch may also carry a test of its own, the clause's *stem*: CP.PHAR.71
writes clauses such as "for previously treated relapsed disease, and prescribed as one of
the following (i or ii)", which is ``all_of(stem, any_of(i, ii))``.

Missing data is ``unknown``, never ``not-met``: the Kleene tables below keep an unknown
from turning into a denial, and a single ``not-met`` decides an ``all_of`` whatever else is
unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from fhir_mappers.facts import CaseFacts, DocumentedAnswer


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not-met"
    UNKNOWN = "unknown"


def all_of(statuses: Iterable[Status]) -> Status:
    """Kleene AND: not-met if any is not-met, met if all are met, else unknown."""
    seen = list(statuses)
    if Status.NOT_MET in seen:
        return Status.NOT_MET
    if all(status is Status.MET for status in seen):
        return Status.MET
    return Status.UNKNOWN


def any_of(statuses: Iterable[Status]) -> Status:
    """Kleene OR: met if any is met, not-met if all are not-met, else unknown.

    An empty ``any_of`` is not-met (no alternative can hold); the policy loader refuses
    empty branches anyway.
    """
    seen = list(statuses)
    if Status.MET in seen:
        return Status.MET
    if all(status is Status.NOT_MET for status in seen):
        return Status.NOT_MET
    return Status.UNKNOWN


@dataclass(frozen=True)
class Outcome:
    """What a predicate says about one case: a status, the FHIR references it rests on,
    and a short reason a prescriber can act on (what was found, or what to document)."""

    status: Status
    evidence: tuple[str, ...] = ()
    reason: str | None = None


Predicate = Callable[[CaseFacts, Mapping[str, Any]], Outcome]


@dataclass(frozen=True)
class DetailItem:
    """A date or value the DTR form asks for beside a documentable criterion's yes/no
    (the transplant date, an erythropoietin level): shown to the reviewer, never judged."""

    kind: Literal["date", "value"]
    text: str
    unit: str | None = None


@dataclass(frozen=True)
class Criterion:
    """One clause of the policy as loaded from the YAML.

    ``combinator`` is ``None`` for a leaf; then ``test`` is required. A branch has
    ``children`` and an optional stem ``test``. ``reason`` overrides the reason composed
    from the children when the branch is not met (used where the composed text would be
    too long to read, e.g. the six alternatives of I.A.4).
    """

    clause: str
    text: str
    test: str | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    combinator: Literal["all_of", "any_of"] | None = None
    children: tuple[Criterion, ...] = ()
    role: str | None = None
    reason: str | None = None
    # Documentation can settle it (the policy YAML's ``documentable``): a question on the DTR
    # form, and a person's answer decides it where the record leaves it unknown.
    documentable: bool = False
    detail: DetailItem | None = None

    def walk(self) -> Iterable[Criterion]:
        """This criterion and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class CriterionResult:
    clause: str
    status: Status
    text: str
    evidence: tuple[str, ...] = ()
    reason: str | None = None
    children: tuple[CriterionResult, ...] = ()


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def _label(clause: str) -> str:
    """The clause from its criterion number on, to prefix reasons: ``CP.PHAR.71 I.A.4.b.ii``
    -> ``4.b.ii``, ``CP.PHAR.71 I.*.7.a`` -> ``7.a``."""
    parts = clause.rsplit(" ", 1)[-1].split(".")
    first = next((i for i, part in enumerate(parts) if part.isdigit()), 0)
    return ".".join(parts[first:])


def evaluate(criterion: Criterion, case: CaseFacts, predicates: Mapping[str, Predicate]) -> CriterionResult:
    """Judge ``case`` against one criterion tree, documented answers included."""
    answers = {answer.clause: answer for answer in case.documentation}
    return _evaluate(criterion, case, predicates, answers, nested=False)


def _documented(
    criterion: Criterion, result: CriterionResult, answers: Mapping[str, DocumentedAnswer]
) -> CriterionResult:
    """A person's answer settles a documentable criterion the record leaves unknown; where
    the record decides (met or not met), the record stands (contract, "Documentation")."""
    answer = answers.get(criterion.clause) if criterion.documentable else None
    if answer is None or result.status is not Status.UNKNOWN:
        return result
    status = Status.MET if answer.value else Status.NOT_MET
    evidence = _dedupe([*result.evidence, answer.ref]) if answer.value else (answer.ref,)
    reason = f"documented on the form ({answer.ref}): {'yes' if answer.value else 'no'}"
    return CriterionResult(result.clause, status, result.text, evidence, reason, result.children)


def _evaluate(
    criterion: Criterion,
    case: CaseFacts,
    predicates: Mapping[str, Predicate],
    answers: Mapping[str, DocumentedAnswer],
    *,
    nested: bool,
) -> CriterionResult:
    stem = predicates[criterion.test](case, criterion.params) if criterion.test else None
    if criterion.combinator is None:
        if stem is None:
            raise ValueError(f"{criterion.clause}: a leaf criterion needs a test")
        leaf = CriterionResult(criterion.clause, stem.status, criterion.text, stem.evidence, stem.reason)
        return _documented(criterion, leaf, answers)

    children = tuple(_evaluate(child, case, predicates, answers, nested=True) for child in criterion.children)
    combine = all_of if criterion.combinator == "all_of" else any_of
    branch = combine(child.status for child in children)
    status = all_of([stem.status, branch]) if stem else branch

    relevant = children if status is Status.UNKNOWN else tuple(child for child in children if child.status is status)
    evidence = _dedupe([*(stem.evidence if stem else ()), *(ref for child in relevant for ref in child.evidence)])
    reason = _branch_reason(criterion, status, branch, stem, children, nested=nested)
    result = CriterionResult(criterion.clause, status, criterion.text, evidence, reason, children)
    return _documented(criterion, result, answers)


def _fragment(result: CriterionResult) -> str | None:
    """A child's reason as its parent quotes it. A leaf's is prefixed with its clause; a
    branch labels its own fragments already."""
    if result.reason:
        return result.reason if result.children else f"{_label(result.clause)}: {result.reason}"
    return f"met under {_label(result.clause)}" if result.status is Status.MET else None


def _branch_reason(
    criterion: Criterion,
    status: Status,
    branch: Status,
    stem: Outcome | None,
    children: tuple[CriterionResult, ...],
    *,
    nested: bool,
) -> str | None:
    """Compose a branch's reason from its stem's and its children's.

    The stem's reason always comes first (it is the context: "diagnosis coded as in
    relapse"). An unknown ``any_of`` with an alternative partly established on the record
    (it has evidence) then quotes only those alternatives: that is the path the prescriber
    is on. Otherwise a branch that is not met gives the data's own ``reason`` when there is
    one, and else the children that decide the combination: the alternative that held, the
    failing children, or the open ones.
    """

    def labelled(text: str) -> str:
        return f"{_label(criterion.clause)}: {text}" if nested else text

    parts = [labelled(stem.reason)] if stem and stem.reason else []
    progress = [child for child in children if child.status is Status.UNKNOWN and child.evidence]
    if criterion.combinator == "any_of" and status is Status.UNKNOWN and progress:
        quoted = progress
    elif status is not Status.MET and criterion.reason:
        return labelled(criterion.reason)
    elif branch is Status.MET:
        met = [child for child in children if child.status is Status.MET]
        quoted = met[:1] if criterion.combinator == "any_of" else [child for child in met if child.reason]
    else:
        quoted = [child for child in children if child.status is branch]
        if branch is Status.UNKNOWN and criterion.combinator == "any_of":
            quoted = [child for child in children if child.status is not Status.MET]
    fragments = [fragment for child in quoted if (fragment := _fragment(child))]
    return "; ".join(_dedupe([*parts, *fragments])) or None
