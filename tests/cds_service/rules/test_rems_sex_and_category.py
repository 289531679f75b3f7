"""A risk category that contradicts the record, and a sex recorded as unknown (issue 12, classes 6 and 7)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cds_service.rules.rems import judge

from .test_rems import case, negative, order, status

CATEGORY = "urn:lenalidomide-cds:rems-risk-category"


def written(category: str):
    return order(extension=[{"url": CATEGORY, "valueCode": category}])


def step(c, step_id: str):
    return next(s for s in judge(c).steps if s.id == step_id)


@pytest.mark.parametrize(
    ("sex", "birth", "category", "says"),
    [
        ("female", "1990-01-01", "adult-male", "the record says female"),
        ("female", "1990-01-01", "male-child", "the record says female"),
        ("male", "1960-01-01", "adult-female-not-reproductive-potential", "the record says male"),
        ("female", "2014-01-01", "adult-female-reproductive-potential", "12 years old"),
        ("male", "1960-01-01", "male-child", "66 years old"),
    ],
)
def test_a_category_whose_sex_or_age_contradicts_the_record_is_unmet(sex, birth, category, says):
    found = step(case(sex=sex, birth=birth, draft=written(category)), "risk-category-on-prescription")
    assert found.status == "unmet"
    assert says in found.text


@pytest.mark.parametrize("gender", ["unknown", "other"])
def test_no_contradiction_can_be_told_without_a_sex(gender):
    found = step(case(sex=gender, draft=written("adult-male")), "risk-category-on-prescription")
    assert found.status == "met"


def test_a_partial_birth_date_on_the_adult_boundary_contradicts_nothing():
    c = case(sex="male", draft=written("adult-male"))
    c = replace(c, age_years=17, age_uncertain=True)
    assert step(c, "risk-category-on-prescription").status != "unmet"


def test_unknown_gender_is_said_as_such():
    j = judge(case(sex="unknown"))
    assert j.risk_category == "unknown"
    assert j.why.startswith("sex recorded as unknown")
    assert "pregnancy-test" in status(case(sex="unknown"))


def test_absent_gender_is_not_on_record():
    c = case()
    c = replace(c, patient=replace(c.patient, sex=None, gender_recorded=None))
    assert judge(c).why.startswith("sex not on record")


def test_unknown_sex_without_a_negative_test_is_critical_like_a_female_of_reproductive_potential():
    assert judge(case(sex="unknown")).unlawful


def test_unknown_sex_with_the_negative_tests_is_not_critical():
    tests = [negative("a", "2026-11-08T10:00:00Z"), negative("b", "2026-11-20T10:00:00Z")]
    j = judge(case(sex="unknown", observations=tests))
    assert not j.unlawful


def test_a_male_without_a_test_is_not_critical():
    assert not judge(case(sex="male", birth="1960-01-01")).unlawful
