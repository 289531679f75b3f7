"""The pregnancy-test step on results in the forms labs send (issue 12, class 3)."""

from __future__ import annotations

import pytest

from cds_service.rules.rems import judge

from .test_rems import case, hcg, status

EARLY, CONFIRM = "2026-11-08T10:00:00Z", "2026-11-20T10:00:00Z"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def step(c):
    return next(s for s in judge(c).steps if s.id == "pregnancy-test")


@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "NEG"},
        {"valueString": "neg."},
        {"valueString": "Not detected"},
        {"valueQuantity": {"value": 5, "comparator": "<", "unit": "mIU/mL"}},
        {"valueString": "<5 mIU/mL"},
        {"interpretation": [{"coding": [{"system": V3, "code": "NEG"}]}]},
    ],
)
def test_two_negative_tests_in_lab_forms_meet_the_step(value):
    c = case(observations=[hcg("a", EARLY, value), hcg("b", CONFIRM, value)])
    j = judge(c)
    assert status(c)["pregnancy-test"] == "met"
    assert not j.unlawful


@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "POS"},
        {"valueString": "Detected"},
        {"interpretation": [{"coding": [{"system": V3, "code": "A"}]}]},
        {"valueString": "Negative", "interpretation": [{"coding": [{"system": V3, "code": "H"}]}]},
    ],
)
def test_a_positive_form_is_a_positive_test(value):
    j = judge(case(observations=[hcg("a", CONFIRM, value)]))
    assert j.pregnancy is not None and j.pregnancy.kind == "positive-test"
    assert j.unlawful


def test_an_unreadable_result_cannot_confirm_and_the_step_says_it_could_not_be_read():
    c = case(
        observations=[hcg("a", EARLY, {"valueString": "Equivocal"}), hcg("b", CONFIRM, {"valueString": "see note"})]
    )
    found = step(c)
    assert found.status == "unverified"
    assert "could not be read" in found.text and "no pregnancy test on record" not in found.text
    assert dict(found.facts)["unreadableResults"] == ["Observation/a", "Observation/b"]
    assert judge(c).pregnancy is None  # never a guess either way


def test_an_unreadable_result_beside_a_readable_one_is_named():
    c = case(observations=[hcg("a", EARLY, {"valueString": "NEG"}), hcg("b", CONFIRM, {"valueString": "??"})])
    found = step(c)
    assert found.status == "unverified"
    assert "Observation/b" in found.text and "could not be read" in found.text


def test_a_less_sensitive_bound_does_not_count():
    """ "<100 mIU/mL" is not detected down to 100 only: the REMS asks for a test sensitive to 50."""
    c = case(observations=[hcg("a", EARLY, {"valueString": "<100 mIU/mL"}), hcg("b", CONFIRM, {"valueString": "NEG"})])
    found = step(c)
    assert found.status == "unverified" and "not sensitive to 50 mIU/mL" in found.text
