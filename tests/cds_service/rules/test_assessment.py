"""The whole assessment: likelihood, indication, approval months, what the cards read."""

from __future__ import annotations

import pytest

from cds_service.rules.assessment import approval_months, assess, likelihood_of
from cds_service.rules.evaluator import CriterionResult, Status
from cds_service.rules.policy import load_policy
from fhir_mappers.facts import PatientFacts

from .builders import coverage, dex_draft, lenalidomide, make_case, med, myeloma, prescriber

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN
IA = "CP.PHAR.71 I.A"


def run(**changes):
    return assess(make_case(**changes), load_policy())


def statuses(assessment) -> dict[str, Status]:
    return {result.clause.removeprefix("CP.PHAR.71 "): result.status for result in assessment.criteria}


def test_all_met_is_likely_approved():
    assessment = run()
    assert assessment.likelihood == "likely-approved"
    assert (assessment.indication, assessment.pathway, assessment.approval_months) == (
        "multiple-myeloma",
        "initial",
        12,
    )
    assert assessment.clauses == (IA,)
    assert list(statuses(assessment)) == [f"I.A.{n}" for n in range(1, 8)]
    assert set(statuses(assessment).values()) == {MET}
    assert (assessment.dose_ceiling_mg, assessment.dose_exceeds_ceiling) == (25, False)
    assert assessment.concurrent_imid_refs == ()
    assert assessment.criteria[0].evidence == ("Condition/mm1",)


def test_role_clauses_point_the_cards_at_their_clause():
    roles = run().role_clauses
    assert (roles["generic"], roles["dose"], roles["concurrency"]) == (f"{IA}.6", f"{IA}.7", f"{IA}.5")


def test_brand_revlimid_needs_documentation():
    assessment = run(order=lenalidomide(brand=True))
    assert assessment.likelihood == "needs-documentation"
    assert statuses(assessment)["I.A.6"] is UNKNOWN


def test_30_mg_a_day_needs_documentation_and_exceeds_the_ceiling():
    assessment = run(order=lenalidomide(daily_dose_mg=30.0))
    assert assessment.likelihood == "needs-documentation"
    assert statuses(assessment)["I.A.7"] is UNKNOWN
    assert (assessment.dose_ceiling_mg, assessment.dose_exceeds_ceiling) == (25, True)


def test_an_unknown_dose_leaves_the_ceiling_question_open():
    assessment = run(order=lenalidomide(daily_dose_mg=None))
    assert assessment.dose_exceeds_ceiling is None
    assert assessment.likelihood == "needs-documentation"


def test_concurrent_pomalidomide_is_likely_denied():
    pom = med("MedicationRequest/pom1", "pomalidomide", draft=True)
    assessment = run(medications=(dex_draft(), pom))
    assert assessment.likelihood == "likely-denied"
    assert statuses(assessment)["I.A.5"] is NOT_MET
    assert assessment.concurrent_imid_refs == ("MedicationRequest/pom1",)


def test_a_minor_is_likely_denied():
    assessment = run(age_years=15, patient=PatientFacts("Patient/p1", None, "male"))
    assert assessment.likelihood == "likely-denied"
    assert statuses(assessment)["I.A.3"] is NOT_MET


def test_not_met_outweighs_unknown():
    pom = med("MedicationRequest/pom1", "pomalidomide", status="active")
    assessment = run(medications=(pom,), prescriber=prescriber(known=False), order=lenalidomide(brand=True))
    assert assessment.likelihood == "likely-denied"


def test_no_diagnosis_gives_the_unknown_indication_with_a_full_assessment():
    assessment = run(conditions=())
    assert (assessment.indication, assessment.likelihood) == ("unknown", "needs-documentation")
    assert assessment.clauses == ("CP.PHAR.71 I",)
    assert assessment.criteria[0].status is UNKNOWN
    assert [statuses(assessment)[key] for key in ("I.*.2", "I.*.3", "I.*.5", "I.*.6", "I.*.7")] == [MET] * 5
    assert assessment.dose_ceiling_mg == 25
    assert set(assessment.role_clauses) >= {"generic", "dose", "concurrency"}
    assert assessment.approval_months == 12


def test_no_diagnosis_still_flags_a_minor_and_a_concurrent_imid():
    thal = med("MedicationRequest/t1", "thalidomide", status="active")
    assessment = run(conditions=(), age_years=12, medications=(thal,))
    assert assessment.likelihood == "likely-denied"
    assert statuses(assessment)["I.*.3"] is NOT_MET and statuses(assessment)["I.*.5"] is NOT_MET
    assert assessment.concurrent_imid_refs == ("MedicationRequest/t1",)


def test_no_diagnosis_over_25_mg_exceeds_the_policy_ceiling():
    assessment = run(conditions=(), order=lenalidomide(daily_dose_mg=50.0))
    assert assessment.dose_exceeds_ceiling is True
    assert statuses(assessment)["I.*.7"] is UNKNOWN


def test_medications_unavailable_makes_5_unknown_not_met():
    assessment = run(medications=(), unavailable=frozenset({"medications"}))
    assert statuses(assessment)["I.A.5"] is UNKNOWN
    assert statuses(assessment)["I.A.4"] is UNKNOWN
    assert assessment.likelihood == "needs-documentation"


def test_missing_data_never_denies():
    bare = make_case(
        patient=None,
        age_years=None,
        conditions=(),
        prescriber=prescriber(known=False),
        medications=(),
        coverage=None,
        order=lenalidomide(brand=None, daily_dose_mg=None),
        unavailable=frozenset({"patient", "conditions", "medications", "coverage", "practitioner"}),
    )
    assessment = assess(bare, load_policy())
    assert assessment.likelihood == "needs-documentation"
    assert {result.status for result in assessment.criteria} == {UNKNOWN}


def test_an_inactive_myeloma_diagnosis_does_not_choose_ia():
    assert run(conditions=(myeloma(active=False),)).indication == "unknown"


@pytest.mark.parametrize(("line", "months"), [("medicaid", 12), ("marketplace", 12), ("commercial", 12), (None, 12)])
def test_approval_months_by_line_of_business(line, months):
    assert run(coverage=coverage(line)).approval_months == months


def test_commercial_says_why_it_shows_12_months():
    assessment = run(coverage=coverage("commercial"))
    assert assessment.approval_note and "duration of the request" in assessment.approval_note
    assert run(coverage=coverage("medicaid")).approval_note is None


def test_no_coverage_on_record_still_gets_12_months():
    assert run(coverage=None).approval_months == 12


def test_a_shorter_commercial_request_caps_the_approval():
    policy = load_policy()
    assert approval_months(policy, "initial", "commercial", 6) == (6, None)
    assert approval_months(policy, "initial", "commercial", 18)[0] == 12
    assert approval_months(policy, "initial", "medicaid", 6) == (12, None)
    assessment = assess(make_case(coverage=coverage("commercial")), policy, requested_months=3)
    assert assessment.approval_months == 3


def test_unknown_line_of_business_gives_12_only_when_every_line_agrees():
    policy = load_policy()
    assert approval_months(policy, "initial", None, None)[0] == 12
    assert approval_months(policy, "initial", None, 12)[0] == 12
    assert approval_months(policy, "initial", None, 24)[0] == 12
    months, note = approval_months(policy, "initial", None, 6)
    assert months is None and "depends on it" in note


def test_a_line_of_business_outside_the_policy_has_no_duration():
    months, note = approval_months(load_policy(), "initial", "medicare", None)
    assert months is None and "medicare" in note


def result(status: Status) -> CriterionResult:
    return CriterionResult("X", status, "t")


def test_likelihood_table():
    assert likelihood_of((result(MET), result(MET))) == "likely-approved"
    assert likelihood_of((result(MET), result(UNKNOWN))) == "needs-documentation"
    assert likelihood_of((result(UNKNOWN), result(NOT_MET))) == "likely-denied"
    assert likelihood_of(()) == "needs-documentation"
