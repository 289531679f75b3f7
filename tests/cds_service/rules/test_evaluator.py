"""The three-valued evaluator: Kleene tables and how a tree's result is put together."""

from __future__ import annotations

from itertools import product
from types import MappingProxyType

import pytest

from cds_service.rules.evaluator import Criterion, Outcome, Status, all_of, any_of, evaluate

from .builders import make_case

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN

ALL_OF_TABLE = {
    (MET, MET): MET,
    (MET, UNKNOWN): UNKNOWN,
    (MET, NOT_MET): NOT_MET,
    (UNKNOWN, MET): UNKNOWN,
    (UNKNOWN, UNKNOWN): UNKNOWN,
    (UNKNOWN, NOT_MET): NOT_MET,
    (NOT_MET, MET): NOT_MET,
    (NOT_MET, UNKNOWN): NOT_MET,
    (NOT_MET, NOT_MET): NOT_MET,
}
ANY_OF_TABLE = {
    (MET, MET): MET,
    (MET, UNKNOWN): MET,
    (MET, NOT_MET): MET,
    (UNKNOWN, MET): MET,
    (UNKNOWN, UNKNOWN): UNKNOWN,
    (UNKNOWN, NOT_MET): UNKNOWN,
    (NOT_MET, MET): MET,
    (NOT_MET, UNKNOWN): UNKNOWN,
    (NOT_MET, NOT_MET): NOT_MET,
}


def test_status_values_are_the_contract_strings():
    assert [s.value for s in Status] == ["met", "not-met", "unknown"]
    assert str(Status.NOT_MET) == "not-met"


@pytest.mark.parametrize(("pair", "expected"), ALL_OF_TABLE.items())
def test_all_of_kleene_table(pair, expected):
    assert all_of(pair) is expected


@pytest.mark.parametrize(("pair", "expected"), ANY_OF_TABLE.items())
def test_any_of_kleene_table(pair, expected):
    assert any_of(pair) is expected


@pytest.mark.parametrize("triple", list(product(Status, repeat=3)))
def test_n_ary_agrees_with_folding_the_binary_tables(triple):
    a, b, c = triple
    assert all_of(triple) is ALL_OF_TABLE[(ALL_OF_TABLE[(a, b)], c)]
    assert any_of(triple) is ANY_OF_TABLE[(ANY_OF_TABLE[(a, b)], c)]


def test_empty_combinations():
    assert all_of([]) is MET
    assert any_of([]) is NOT_MET


def fixed(status: Status, evidence: tuple[str, ...] = (), reason: str | None = None):
    return lambda case, params: Outcome(status, evidence, reason)


PREDICATES = {
    "met": fixed(MET, ("Condition/c1",), "found it"),
    "met_quiet": fixed(MET, ("Observation/o1",)),
    "unknown": fixed(UNKNOWN, (), "document it"),
    "not_met": fixed(NOT_MET, ("MedicationRequest/m1",), "it fails"),
    "echo": lambda case, params: Outcome(MET, (), f"param {params['x']}"),
}


def leaf(clause: str, test: str, **params) -> Criterion:
    return Criterion(clause=clause, text=f"text of {clause}", test=test, params=MappingProxyType(params))


def test_leaf_takes_the_predicate_outcome_and_params():
    result = evaluate(leaf("P 1", "echo", x=7), make_case(), PREDICATES)
    assert (result.clause, result.status, result.text, result.reason) == (
        "P 1",
        MET,
        "text of P 1",
        "param 7",
    )
    assert result.children == ()


def test_leaf_without_test_is_refused():
    with pytest.raises(ValueError, match="needs a test"):
        evaluate(Criterion(clause="P 1", text="t"), make_case(), PREDICATES)


def test_any_of_met_names_the_alternative_that_held_and_its_evidence():
    node = Criterion(
        clause="P 4",
        text="one of",
        combinator="any_of",
        children=(leaf("P 4.a", "unknown"), leaf("P 4.b", "met")),
    )
    result = evaluate(node, make_case(), PREDICATES)
    assert result.status is MET
    assert result.evidence == ("Condition/c1",)
    assert result.reason == "4.b: found it"
    assert [child.status for child in result.children] == [UNKNOWN, MET]


def test_any_of_unknown_joins_the_reasons_of_the_open_alternatives():
    node = Criterion(
        clause="P 7",
        text="a or b",
        combinator="any_of",
        children=(leaf("P 7.a", "not_met"), leaf("P 7.b", "unknown")),
    )
    result = evaluate(node, make_case(), PREDICATES)
    assert result.status is UNKNOWN
    assert result.reason == "7.a: it fails; 7.b: document it"
    assert result.evidence == ("MedicationRequest/m1",)


def test_all_of_not_met_keeps_only_the_failing_evidence():
    node = Criterion(
        clause="P 2",
        text="both",
        combinator="all_of",
        children=(leaf("P 2.a", "met"), leaf("P 2.b", "not_met")),
    )
    result = evaluate(node, make_case(), PREDICATES)
    assert result.status is NOT_MET
    assert result.evidence == ("MedicationRequest/m1",)
    assert result.reason == "2.b: it fails"


def test_a_stem_test_is_anded_with_the_branch():
    def node(stem: str, child: str) -> Criterion:
        return Criterion(
            clause="P 4.b",
            text="stem, and one of",
            test=stem,
            combinator="any_of",
            children=(leaf("P 4.b.i", child),),
        )

    assert evaluate(node("met", "met"), make_case(), PREDICATES).status is MET
    assert evaluate(node("unknown", "met"), make_case(), PREDICATES).status is UNKNOWN
    assert evaluate(node("met", "unknown"), make_case(), PREDICATES).status is UNKNOWN
    assert evaluate(node("not_met", "met"), make_case(), PREDICATES).status is NOT_MET
    stem_open = evaluate(node("met", "unknown"), make_case(), PREDICATES)
    assert stem_open.evidence == ("Condition/c1",)  # what the stem rests on is kept
    assert stem_open.reason == "found it; 4.b.i: document it"  # the stem is context
    both_open = evaluate(node("unknown", "unknown"), make_case(), PREDICATES)
    assert both_open.reason == "document it; 4.b.i: document it"  # the stem's reason first


def test_a_branch_reason_from_the_data_replaces_the_composed_one_unless_met():
    children = (leaf("P 4.a", "unknown"), leaf("P 4.b", "unknown"))
    node = Criterion(clause="P 4", text="t", combinator="any_of", children=children, reason="say this")
    assert evaluate(node, make_case(), PREDICATES).reason == "say this"
    met = Criterion(
        clause="P 4", text="t", combinator="any_of", children=(leaf("P 4.a", "met_quiet"),), reason="say this"
    )
    assert evaluate(met, make_case(), PREDICATES).reason == "met under 4.a"


def test_nested_branches_label_their_own_fragments():
    inner = Criterion(
        clause="P 4.b",
        text="stem, and one of",
        test="met",
        combinator="any_of",
        children=(leaf("P 4.b.i", "unknown"), leaf("P 4.b.ii", "met")),
    )
    outer = Criterion(clause="P 4", text="one of", combinator="any_of", children=(leaf("P 4.a", "unknown"), inner))
    result = evaluate(outer, make_case(), PREDICATES)
    assert result.status is MET
    assert result.reason == "4.b: found it; 4.b.ii: found it"


def test_an_open_alternative_with_evidence_is_the_one_reported():
    partly = Criterion(
        clause="P 4.c",
        text="stem, and one of",
        test="unknown",
        combinator="any_of",
        children=(leaf("P 4.c.i", "met"),),
    )
    outer = Criterion(
        clause="P 4",
        text="one of",
        combinator="any_of",
        children=(leaf("P 4.a", "unknown"), partly),
        reason="the generic advice",
    )
    result = evaluate(outer, make_case(), PREDICATES)
    assert result.status is UNKNOWN
    assert result.reason == "4.c: document it; 4.c.i: found it"
    assert result.evidence == ("Condition/c1",)
