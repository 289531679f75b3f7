"""The policy YAML: it loads, it matches the PDF's structure, and bad edits are refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from cds_service.rules.policy import DEFAULT_PATH, PolicyError, load_policy, parse_policy
from cds_service.rules.predicates import REGISTRY

IA = "CP.PHAR.71 I.A"


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def mm_criteria(data: dict) -> list[dict]:
    return data["indications"]["multiple-myeloma"]["criteria"]


def test_the_packaged_policy_loads_with_its_header():
    policy = load_policy()
    assert policy.id == "CP.PHAR.71"
    assert policy.title == "Lenalidomide (Revlimid)"
    assert (policy.effective_date, policy.last_review_date) == ("2011-07-01", "2026-05")
    assert set(policy.lines_of_business) == {"medicaid", "marketplace", "commercial"}


def test_load_policy_is_cached():
    assert load_policy() is load_policy()


def test_approval_durations_follow_the_pdf():
    initial = load_policy().approval["initial"]
    assert initial["medicaid"].months == 12 and not initial["medicaid"].capped_by_request
    assert initial["marketplace"].months == 12 and not initial["marketplace"].capped_by_request
    assert initial["commercial"].months == 12 and initial["commercial"].capped_by_request


def test_multiple_myeloma_is_section_ia_with_a_25_mg_ceiling():
    mm = load_policy().indications["multiple-myeloma"]
    assert (mm.section, mm.pathway, mm.clause) == ("I.A", "initial", IA)
    assert mm.dose_ceiling_mg_per_day == 25
    assert [c.clause for c in mm.criteria] == [f"{IA}.{n}" for n in range(1, 8)]


def test_every_clause_of_ia_is_there_with_unique_ids():
    mm = load_policy().indications["multiple-myeloma"]
    ids = [c.clause for c in mm.walk()]
    assert len(ids) == len(set(ids))
    assert all(clause.startswith(IA) for clause in ids)
    expected_4 = ["a", "b", "b.i", "b.ii", "c", "c.i", "c.ii", "d", "d.i", "d.ii", "e", "f", "f.i", "f.ii"]
    assert {f"{IA}.4.{suffix}" for suffix in expected_4} | {f"{IA}.7.a", f"{IA}.7.b"} <= set(ids)


def test_clause_ids_are_unique_across_the_whole_policy():
    ids = load_policy().clause_ids()
    assert len(ids) == len(set(ids))


def test_every_test_name_resolves_and_every_set_has_the_roles_the_cards_need():
    for criteria_set in load_policy().criteria_sets():
        for criterion in criteria_set.walk():
            assert criterion.test is None or criterion.test in REGISTRY, criterion.clause
            assert criterion.test or criterion.children, criterion.clause
        assert {"concurrency", "generic", "dose"} <= set(criteria_set.role_clauses)


def test_ia4_structure_mirrors_the_pdf():
    use = load_policy().indications["multiple-myeloma"].criteria[3]
    assert use.combinator == "any_of" and len(use.children) == 6
    a, b, c, d, e, f = use.children
    assert (a.test, a.params["all"]) == ("combined_with", ("dexamethasone",))
    assert b.test == "previously_treated" and b.combinator == "any_of"
    assert b.children[1].params["one_of"] == (
        "bortezomib",
        "carfilzomib",
        "daratumumab",
        "ixazomib",
        "cyclophosphamide",
        "elotuzumab",
        "bendamustine",
    )
    assert {"thalidomide", "pomalidomide", "lenalidomide"} <= set(b.params["prior_therapies"])
    assert c.combinator == "any_of" and set(c.children[1].params["one_of"]) == {
        "carfilzomib",
        "bortezomib",
        "daratumumab",
    }
    assert d.combinator == "any_of" and len(d.children) == 2
    assert e.test == "documentation" and not e.children
    assert f.combinator == "all_of" and len(f.children) == 2


def test_thresholds_and_lists_are_data():
    mm = {c.clause: c for c in load_policy().indications["multiple-myeloma"].walk()}
    assert mm[f"{IA}.2"].params["specialties"] == ("oncology", "hematology")
    assert mm[f"{IA}.3"].params["years"] == 18
    assert mm[f"{IA}.5"].params["drugs"] == ("thalidomide", "pomalidomide")
    assert mm[f"{IA}.7.a"].params["max_mg_per_day"] == 25


def test_the_unknown_indication_set():
    unknown = load_policy().unknown_indication
    assert (unknown.name, unknown.clause, unknown.dose_ceiling_mg_per_day) == ("unknown", "CP.PHAR.71 I", 25)
    assert [c.role for c in unknown.criteria] == [
        "diagnosis",
        "prescriber",
        "age",
        "concurrency",
        "generic",
        "dose",
    ]
    assert unknown.criteria[0].test == "diagnosis_undetermined"
    assert [c.test for c in unknown.criteria[-1].children] == ["daily_dose_at_most", "documentation"]


def test_params_are_frozen():
    criterion = load_policy().indications["multiple-myeloma"].criteria[1]
    with pytest.raises(TypeError):
        criterion.params["specialties"] = ("dermatology",)


def test_load_policy_reads_another_file(tmp_path: Path, raw: dict):
    edited = copy.deepcopy(raw)
    edited["title"] = "Edited"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(edited), encoding="utf-8")
    assert load_policy(path).title == "Edited"


def test_invalid_yaml_is_a_policy_error(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("policy: [unclosed", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(path)


def broken(raw: dict, edit) -> str:
    data = copy.deepcopy(raw)
    edit(data)
    with pytest.raises(PolicyError) as caught:
        parse_policy(data)
    return str(caught.value)


def test_an_unknown_test_name_fails_at_load(raw):
    message = broken(raw, lambda d: mm_criteria(d)[0].update(test="diagnosis_on_recrod"))
    assert "CP.PHAR.71 I.A.1" in message and "unknown test 'diagnosis_on_recrod'" in message


def test_a_misspelt_or_missing_param_fails_at_load(raw):
    assert "unexpected param 'yeras'" in broken(raw, lambda d: mm_criteria(d)[2].update(params={"yeras": 18}))
    assert "missing param 'years'" in broken(raw, lambda d: mm_criteria(d)[2].update(params={}))
    assert "must be integer" in broken(raw, lambda d: mm_criteria(d)[2].update(params={"years": "18"}))


def test_a_combination_without_drugs_fails_at_load(raw):
    message = broken(raw, lambda d: mm_criteria(d)[3]["any_of"][0].update(params={}))
    assert "CP.PHAR.71 I.A.4.a" in message and "needs at least one of the params 'all', 'one_of'" in message


def test_a_duplicate_clause_id_fails_at_load(raw):
    assert "already used" in broken(raw, lambda d: mm_criteria(d)[1].update(clause="CP.PHAR.71 I.A.1"))


def test_a_clause_outside_its_section_or_parent_fails_at_load(raw):
    assert "must start with 'CP.PHAR.71 I.A.'" in broken(
        raw, lambda d: mm_criteria(d)[1].update(clause="CP.PHAR.71 I.B.2")
    )
    assert "must start with 'CP.PHAR.71 I.A.4.'" in broken(
        raw, lambda d: mm_criteria(d)[3]["any_of"][0].update(clause="CP.PHAR.71 I.A.5.a")
    )


def test_a_dose_ceiling_that_disagrees_with_its_clause_fails_at_load(raw):
    message = broken(raw, lambda d: d["indications"]["multiple-myeloma"].update(dose_ceiling_mg_per_day=20))
    assert "disagrees with dose_ceiling_mg_per_day 20" in message


def test_a_missing_role_or_duration_fails_at_load(raw):
    assert "no criterion has role 'generic'" in broken(raw, lambda d: mm_criteria(d)[5].pop("role"))
    assert "no duration for line of business 'commercial'" in broken(
        raw, lambda d: d["approval"]["initial"].pop("commercial")
    )


def test_structural_mistakes_fail_at_load(raw):
    def both(d):
        mm_criteria(d)[6]["all_of"] = mm_criteria(d)[6]["any_of"]

    assert "not both" in broken(raw, both)
    assert "needs a test" in broken(raw, lambda d: mm_criteria(d)[5].pop("test"))
    assert "unexpected key 'tset'" in broken(raw, lambda d: mm_criteria(d)[5].update(tset="x"))
    assert "non-empty list" in broken(raw, lambda d: mm_criteria(d)[6].update(any_of=[]))
    assert "top-level criteria only" in broken(raw, lambda d: mm_criteria(d)[6]["any_of"][0].update(role="dose"))


def test_every_problem_is_reported_at_once(raw):
    def two(d):
        mm_criteria(d)[0].update(test="nope")
        mm_criteria(d)[2].update(params={})

    message = broken(raw, two)
    assert "unknown test 'nope'" in message and "missing param 'years'" in message
