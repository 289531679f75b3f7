"""CP.PHAR.71 I.A (multiple myeloma), clause by clause, through the packaged YAML.

One test per clause outcome: met, unknown, and not-met where the record can show it.
"""

from __future__ import annotations

from datetime import date

from cds_service.rules.assessment import assess
from cds_service.rules.evaluator import CriterionResult, Status, evaluate
from cds_service.rules.policy import load_policy
from cds_service.rules.predicates import predicate_functions
from fhir_mappers.facts import CaseFacts, PatientFacts

from .builders import ORDER_REF, condition, dex_draft, lenalidomide, make_case, med, myeloma, prescriber

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN
BEFORE = date(2025, 6, 1)


def clause(case: CaseFacts, suffix: str) -> CriterionResult:
    """The result for ``CP.PHAR.71 I.A.<suffix>`` anywhere in the tree, judged under I.A
    whatever the diagnosis on record (so that I.A.1 itself can be seen unknown)."""
    wanted = f"CP.PHAR.71 I.A.{suffix}"
    criteria = load_policy().indications["multiple-myeloma"].criteria
    stack = [evaluate(criterion, case, predicate_functions()) for criterion in criteria]
    while stack:
        result = stack.pop()
        if result.clause == wanted:
            return result
        stack.extend(result.children)
    raise AssertionError(f"{wanted} not assessed")


# --- I.A.1 diagnosis ---


def test_1_met_with_the_condition_as_evidence():
    result = clause(make_case(), "1")
    assert (result.status, result.evidence) == (MET, ("Condition/mm1",))
    assert "the order's stated reason" in result.reason


def test_1_prefers_the_condition_the_order_names():
    case = make_case(
        conditions=(myeloma("Condition/old"), myeloma("Condition/named")),
        order=lenalidomide(reason_refs=("Condition/named",)),
    )
    assert clause(case, "1").evidence == ("Condition/named", "Condition/old")


def test_1_unknown_without_a_myeloma_diagnosis_on_record():
    result = clause(make_case(conditions=()), "1")
    assert (result.status, result.evidence) == (UNKNOWN, ())
    assert result.reason == "no multiple myeloma diagnosis on record: document the diagnosis"


def test_1_unknown_when_the_conditions_could_not_be_read():
    result = clause(make_case(conditions=(), unavailable=frozenset({"conditions"})), "1")
    assert result.status is UNKNOWN and "could not be read" in result.reason


def test_1_unknown_when_the_myeloma_diagnosis_is_not_active():
    result = clause(make_case(conditions=(myeloma(active=False),)), "1")
    assert result.status is UNKNOWN and "not active (Condition/mm1)" in result.reason


# --- I.A.2 prescriber ---


def test_2_met_for_a_hematologist_or_an_oncologist():
    assert clause(make_case(), "2").status is MET
    result = clause(make_case(prescriber=prescriber("oncology")), "2")
    assert (result.status, result.evidence) == (MET, ("Practitioner/dr1",))


def test_2_unknown_never_not_met_without_the_specialty():
    result = clause(make_case(prescriber=prescriber("immunology")), "2")
    assert result.status is UNKNOWN
    assert result.reason.startswith("no oncology or hematology specialty on record")
    assert result.reason.endswith("document it, or the specialist consulted")


def test_2_unknown_when_the_prescriber_could_not_be_read():
    case = make_case(prescriber=prescriber(known=False), unavailable=frozenset({"practitioner"}))
    result = clause(case, "2")
    assert result.status is UNKNOWN and "could not be read" in result.reason


# --- I.A.3 age ---


def test_3_met_for_an_adult_on_the_order_date():
    result = clause(make_case(), "3")
    assert (result.status, result.evidence) == (MET, ("Patient/p1",))


def test_3_not_met_for_a_minor():
    case = make_case(age_years=16, patient=PatientFacts("Patient/p1", date(2010, 1, 1), "female"))
    result = clause(case, "3")
    assert result.status is NOT_MET and "age 16" in result.reason


def test_3_age_is_computed_on_the_order_date_when_not_given():
    turns_18_next_day = PatientFacts("Patient/p1", date(2008, 11, 21), "male")
    assert clause(make_case(age_years=None, patient=turns_18_next_day), "3").status is NOT_MET
    turned_18 = PatientFacts("Patient/p1", date(2008, 11, 20), "male")
    assert clause(make_case(age_years=None, patient=turned_18), "3").status is MET


def test_3_a_partial_birth_date_that_may_reach_18_is_unknown_not_not_met():
    born_2008 = PatientFacts("Patient/p1", None, "female", birth_date_partial="2008")
    straddling = make_case(patient=born_2008, age_years=17, age_uncertain=True)
    result = clause(straddling, "3")
    assert result.status is UNKNOWN
    assert result.reason.startswith("birth date on record is partial (2008): age 17 or 18")
    assert clause(make_case(patient=born_2008, age_years=16, age_uncertain=True), "3").status is NOT_MET
    assert clause(make_case(patient=born_2008, age_years=18, age_uncertain=True), "3").status is MET


def test_3_unknown_without_a_birth_date():
    case = make_case(age_years=None, patient=PatientFacts("Patient/p1", None, None))
    result = clause(case, "3")
    assert result.status is UNKNOWN and "date of birth" in result.reason
    assert clause(make_case(age_years=None, patient=None), "3").status is UNKNOWN


# --- I.A.4 use ---


def test_4a_met_with_dexamethasone_drafted_or_active():
    result = clause(make_case(), "4")
    assert (result.status, result.evidence) == (MET, ("MedicationRequest/dex1",))
    assert result.reason.startswith("4.a: with dexamethasone")
    active = make_case(medications=(med("MedicationRequest/dex9", "dexamethasone", status="active"),))
    assert clause(active, "4.a").status is MET


def test_4a_unknown_when_dexamethasone_is_absent_or_only_in_the_past():
    assert clause(make_case(medications=()), "4.a").status is UNKNOWN
    stopped = med("MedicationRequest/dex0", "dexamethasone", status="stopped", authored=BEFORE)
    assert clause(make_case(medications=(stopped,)), "4.a").status is UNKNOWN


def test_4_unknown_not_not_met_without_any_regimen_on_record():
    result = clause(make_case(medications=()), "4")
    assert result.status is UNKNOWN
    assert result.reason.startswith("no dexamethasone combination on record")
    assert len(result.children) == 6


def test_4b_met_for_relapsed_disease_with_dex_and_a_partner():
    case = make_case(
        conditions=(myeloma(code="C90.02", relapsed=True),),
        medications=(dex_draft(), med("MedicationRequest/k1", "carfilzomib", draft=True)),
    )
    result = clause(case, "4.b")
    assert result.status is MET
    assert result.evidence == ("Condition/mm1", "MedicationRequest/dex1", "MedicationRequest/k1")
    assert clause(case, "4.b.ii").status is MET


def test_4b_stem_met_by_prior_myeloma_therapy_not_by_current():
    prior = med("MedicationRequest/v0", "bortezomib", status="completed", period_start=BEFORE)
    result = clause(make_case(medications=(prior,)), "4.b")
    assert result.status is UNKNOWN  # relapsed, but the regimen (i or ii) is not on record
    assert "MedicationRequest/v0" in result.evidence
    current = med("MedicationRequest/v1", "bortezomib", status="active", period_start=BEFORE)
    stem = clause(make_case(medications=(current,)), "4.b")
    assert stem.status is UNKNOWN and "no relapse or prior therapy on record" in stem.reason


def test_4b_prior_lenalidomide_counts_but_a_cancelled_order_does_not():
    prior = med("MedicationRequest/l0", "lenalidomide", status="stopped", authored=BEFORE)
    partner = med("MedicationRequest/d1", "daratumumab", draft=True)
    assert clause(make_case(medications=(prior, dex_draft(), partner)), "4.b").status is MET
    cancelled = med("MedicationRequest/l0", "lenalidomide", status="cancelled", authored=BEFORE)
    assert clause(make_case(medications=(cancelled, dex_draft(), partner)), "4.b").status is UNKNOWN


def test_4bii_unknown_without_a_listed_partner():
    case = make_case(medications=(dex_draft(), med("MedicationRequest/x", "rituximab", draft=True)))
    result = clause(case, "4.b.ii")
    assert result.status is UNKNOWN and "one of bortezomib" in result.reason


def test_4bi_steroid_intolerance_is_documentation():
    result = clause(make_case(), "4.b.i")
    assert result.status is UNKNOWN and "steroid intolerance" in result.reason


def test_4c_maintenance_is_unknown_even_with_a_listed_partner():
    case = make_case(medications=(med("MedicationRequest/v1", "bortezomib", draft=True),))
    assert clause(case, "4.c.ii").status is MET
    result = clause(case, "4.c")
    assert result.status is UNKNOWN and "maintenance" in result.reason


def test_4_reports_the_path_the_record_points_to():
    relapsed = make_case(
        conditions=(myeloma(code="C90.02", relapsed=True),),
        medications=(),
        unavailable=frozenset({"medications"}),
    )
    result = clause(relapsed, "4")
    assert result.status is UNKNOWN and result.evidence == ("Condition/mm1",)
    assert result.reason.startswith("4.b: diagnosis coded as in relapse; 4.b.i: document the steroid intolerance")
    assert "4.b.ii: medications could not be read" in result.reason
    maintenance = clause(make_case(medications=(med("MedicationRequest/v1", "bortezomib", draft=True),)), "4")
    assert maintenance.reason == (
        "4.c: document maintenance after stem cell transplant or after response to primary therapy; "
        "4.c.ii: with bortezomib (current orders)"
    )


def test_4d_4e_4f_are_documentation():
    for suffix, words in [("4.d", "smoldering"), ("4.e", "POEMS"), ("4.f", "CNS disease")]:
        result = clause(make_case(medications=()), suffix)
        assert result.status is UNKNOWN and words in result.reason, suffix


def test_4_unknown_when_the_medications_could_not_be_read():
    result = clause(make_case(medications=(), unavailable=frozenset({"medications"})), "4.a")
    assert result.status is UNKNOWN and "could not be read" in result.reason


# --- I.A.5 concurrency ---


def test_5_met_when_no_thalidomide_or_pomalidomide_is_current():
    result = clause(make_case(), "5")
    assert result.status is MET and "no current thalidomide or pomalidomide" in result.reason
    stopped = med("MedicationRequest/t0", "thalidomide", status="stopped", authored=BEFORE)
    assert clause(make_case(medications=(dex_draft(), stopped)), "5").status is MET


def test_5_not_met_with_a_draft_pomalidomide():
    pom = med("MedicationRequest/pom1", "pomalidomide", draft=True)
    result = clause(make_case(medications=(dex_draft(), pom)), "5")
    assert (result.status, result.evidence) == (NOT_MET, ("MedicationRequest/pom1",))
    assert "ordered in this session" in result.reason


def test_5_not_met_with_an_active_or_on_hold_thalidomide_on_record():
    for status in ("active", "on-hold"):
        thal = med("MedicationRequest/thal1", "thalidomide", status=status, authored=BEFORE)
        result = clause(make_case(medications=(thal,)), "5")
        assert (result.status, result.evidence) == (NOT_MET, ("MedicationRequest/thal1",)), status


def test_5_unknown_when_the_medications_could_not_be_read():
    result = clause(make_case(medications=(), unavailable=frozenset({"medications"})), "5")
    assert result.status is UNKNOWN and "could not be read" in result.reason


def test_5_a_drafted_thalidomide_is_not_met_even_when_the_record_could_not_be_read():
    thal = med("MedicationRequest/thal2", "thalidomide", draft=True)
    case = make_case(medications=(thal,), unavailable=frozenset({"medications"}))
    assert clause(case, "5").status is NOT_MET


# --- I.A.6 generic ---


def test_6_met_for_generic():
    result = clause(make_case(), "6")
    assert (result.status, result.evidence) == (MET, (ORDER_REF,))


def test_6_unknown_for_revlimid_with_what_to_do():
    result = clause(make_case(order=lenalidomide(brand=True)), "6")
    assert result.status is UNKNOWN
    assert result.reason == (
        "Revlimid requires generic lenalidomide unless contraindicated, adverse effects, or generic "
        "shortage — document the exception or switch to generic"
    )


def test_6_unknown_when_brand_or_generic_cannot_be_told():
    assert clause(make_case(order=lenalidomide(brand=None)), "6").status is UNKNOWN


# --- I.A.7 dose ---


def test_7_met_at_or_under_25_mg():
    for dose in (25.0, 10.0):
        result = clause(make_case(order=lenalidomide(daily_dose_mg=dose)), "7")
        assert result.status is MET, dose
        assert result.reason.startswith("7.a:")


def test_7_over_25_mg_is_unknown_because_7b_is_open():
    case = make_case(order=lenalidomide(daily_dose_mg=30.0))
    assert clause(case, "7.a").status is NOT_MET
    assert clause(case, "7.b").status is UNKNOWN
    result = clause(case, "7")
    assert result.status is UNKNOWN
    assert result.reason == (
        "7.a: 30 mg/day is above the 25 mg/day limit; "
        "7.b: submit practice-guideline or peer-reviewed support for the dose"
    )


def test_7_unknown_when_the_dose_is_unknown():
    result = clause(make_case(order=lenalidomide(daily_dose_mg=None)), "7.a")
    assert result.status is UNKNOWN and "dose and frequency" in result.reason


# --- the fallback set is honest too ---


def test_a_non_mm_diagnosis_is_not_taken_for_mm():
    # an indication name no criteria set judges (the mapper never gives one today)
    case = make_case(conditions=(condition("Condition/x1", "not-assessed-here", code="C83.30"),))
    assessment = assess(case, load_policy())
    assert assessment.indication == "unknown"
    first = assessment.criteria[0]
    assert first.status is UNKNOWN and "not assessed here on record (Condition/x1)" in first.reason


def test_an_inactive_mm_diagnosis_falls_back_and_says_so():
    assessment = assess(make_case(conditions=(myeloma(active=False),)), load_policy())
    assert assessment.indication == "unknown"
    assert "multiple myeloma on record but not active (Condition/mm1)" in assessment.criteria[0].reason


def test_no_diagnosis_at_all_asks_for_it():
    reason = assess(make_case(conditions=()), load_policy()).criteria[0].reason
    assert reason == "no diagnosis covered by the policy on record: document the diagnosis being treated"
    unread = make_case(conditions=(), unavailable=frozenset({"conditions"}))
    assert "could not be read" in assess(unread, load_policy()).criteria[0].reason
