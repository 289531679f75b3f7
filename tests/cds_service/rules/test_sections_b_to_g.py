"""Sections I.B-I.E (MDS, MCL, MZL, FL), I.G / III (other diagnoses) and II (continued
therapy) of CP.PHAR.71, judged on hand-built facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_service.rules.assessment import assess
from cds_service.rules.evaluator import CriterionResult, Status
from cds_service.rules.policy import load_policy
from fhir_mappers.facts import Coding, LabObservation

from .builders import ICD10, condition, coverage, lenalidomide, make_case, med

MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


def lab(kind: str, value: float | None, ref: str = "Observation/o1", day: date = date(2026, 11, 1)) -> LabObservation:
    units = {"hemoglobin": "g/dL", "erythropoietin": "mU/mL", "platelets": "10*9/L"}
    return LabObservation(ref=ref, kind=kind, value=value, unit=units.get(kind), effective=day)


def sf3b1() -> LabObservation:
    return LabObservation(ref="Observation/sf3b1", kind="sf3b1", value=None, unit=None, effective=None, present=True)


def mds(code: str = "D46.9", features: frozenset[str] = frozenset()):
    return replace(condition("Condition/mds1", "myelodysplastic-syndrome", code=code), features=features)


def find(result: CriterionResult, clause: str) -> CriterionResult:
    if result.clause == f"CP.PHAR.71 {clause}":
        return result
    for child in result.children:
        try:
            return find(child, clause)
        except LookupError:
            continue
    raise LookupError(clause)


def clause(assessment, clause_id: str) -> CriterionResult:
    for result in assessment.criteria:
        try:
            return find(result, clause_id)
        except LookupError:
            continue
    raise LookupError(clause_id)


def mds_case(**changes):
    base = dict(
        conditions=(mds("D46.C", frozenset({"del-5q"})),),
        medications=(),
        order=lenalidomide(daily_dose_mg=10.0, reason_refs=("Condition/mds1",)),
        observations=(lab("hemoglobin", 8.4),),
    )
    base.update(changes)
    return make_case(**base)


# --- I.B myelodysplastic syndrome -------------------------------------------------------


def test_mds_del5q_with_anemia_is_needs_documentation_for_the_risk_group_only():
    assessment = assess(mds_case(), load_policy())
    assert assessment.indication == "myelodysplastic-syndrome"
    assert assessment.clauses == ("CP.PHAR.71 I.B",)
    assert assessment.dose_ceiling_mg == 10
    statuses = {r.clause.split()[-1]: r.status for r in assessment.criteria}
    assert statuses == {
        "I.B.1": UNKNOWN,  # lower risk (IPSS-R/IPSS/WPSS) is never coded
        "I.B.2": MET,
        "I.B.3": MET,
        "I.B.4": MET,
        "I.B.5": MET,
        "I.B.6": MET,
        "I.B.7": MET,
    }
    assert "lower-risk" in assessment.criteria[0].reason
    assert clause(assessment, "I.B.4.a.i").status is MET
    assert clause(assessment, "I.B.4.a.ii").status is NOT_MET  # del(5q) is on record


def test_mds_hemoglobin_above_10_is_unknown_not_failed():
    assessment = assess(mds_case(observations=(lab("hemoglobin", 11.2),)), load_policy())
    result = clause(assessment, "I.B.4.a")
    assert result.status is UNKNOWN and "transfusion dependence" in result.reason


def test_mds_the_latest_hemoglobin_counts():
    older = lab("hemoglobin", 12.0, "Observation/old", date(2026, 1, 1))
    newer = lab("hemoglobin", 9.1, "Observation/new", date(2026, 11, 1))
    assessment = assess(mds_case(observations=(newer, older)), load_policy())
    assert clause(assessment, "I.B.4.a").evidence[0] == "Observation/new"


def test_mds_dose_over_10_is_not_met_under_7a():
    assessment = assess(mds_case(order=lenalidomide(daily_dose_mg=15.0)), load_policy())
    assert clause(assessment, "I.B.7.a").status is NOT_MET
    assert assessment.dose_exceeds_ceiling is True


def test_mds_without_del5q_epo_at_most_500_and_esa_stopped():
    case = mds_case(
        conditions=(mds("D46.9"),),
        observations=(lab("hemoglobin", 8.0), lab("erythropoietin", 180.0, "Observation/epo")),
        medications=(med("MedicationRequest/epo1", "epoetin alfa", status="stopped", authored=date(2026, 3, 1)),),
    )
    assessment = assess(case, load_policy())
    assert clause(assessment, "I.B.4.a.ii.2.b").status is MET
    assert clause(assessment, "I.B.4.a.ii.2.a").status is NOT_MET  # EPO is not > 500
    # ring sideroblasts < 15 % has no code: the branch stays unknown
    assert clause(assessment, "I.B.4.a.ii.2").status is UNKNOWN
    assert clause(assessment, "I.B.4").status is UNKNOWN


def test_mds_epo_above_500_asks_for_immunosuppressive_response():
    case = mds_case(conditions=(mds("D46.9"),), observations=(lab("hemoglobin", 8.0), lab("erythropoietin", 900.0)))
    assessment = assess(case, load_policy())
    result = clause(assessment, "I.B.4.a.ii.2.a")
    assert result.status is UNKNOWN and "immunosuppressive" in result.reason
    assert clause(assessment, "I.B.4.a.ii.2.b").status is NOT_MET


def test_mds_mpn_overlap_with_sf3b1():
    overlap = replace(
        condition("Condition/mds1", "myelodysplastic-syndrome", code="C94.6"), features=frozenset({"mds-mpn-overlap"})
    )
    assessment = assess(mds_case(conditions=(overlap,), observations=(sf3b1(),)), load_policy())
    assert clause(assessment, "I.B.4.b.ii").status is MET
    assert clause(assessment, "I.B.4.b.i").status is UNKNOWN  # no platelet threshold in the policy


# --- I.C mantle cell lymphoma ----------------------------------------------------------


def mcl_case(**changes):
    base = dict(
        conditions=(condition("Condition/mcl1", "mantle-cell-lymphoma", code="C83.10"),),
        medications=(),
        order=lenalidomide(reason_refs=("Condition/mcl1",)),
    )
    base.update(changes)
    return make_case(**base)


def test_mcl_after_two_regimens_one_with_bortezomib_is_approved():
    history = (
        med("MedicationRequest/r1", "rituximab", status="completed", authored=date(2024, 1, 10)),
        med("MedicationRequest/b1", "bendamustine", status="completed", authored=date(2024, 1, 12)),
        med("MedicationRequest/v1", "bortezomib", status="stopped", authored=date(2025, 6, 1)),
    )
    assessment = assess(mcl_case(medications=history), load_policy())
    assert clause(assessment, "I.C.4.a").status is MET
    assert "2 prior regimens" in clause(assessment, "I.C.4.a").reason
    assert assessment.likelihood == "likely-approved"


def test_mcl_one_regimen_is_not_enough():
    history = (med("MedicationRequest/v1", "bortezomib", status="completed", authored=date(2025, 6, 1)),)
    assessment = assess(mcl_case(medications=history), load_policy())
    assert clause(assessment, "I.C.4.a").status is UNKNOWN
    assert assessment.likelihood == "needs-documentation"


def test_mcl_with_rituximab_current():
    assessment = assess(mcl_case(medications=(med("MedicationRequest/r2", "rituximab", draft=True),)), load_policy())
    assert clause(assessment, "I.C.4.b").status is MET


# --- I.D / I.E lines of therapy ------------------------------------------------------------


def mzl_case(**changes):
    base = dict(
        conditions=(condition("Condition/mzl1", "marginal-zone-lymphoma", code="C88.40"),),
        medications=(med("MedicationRequest/r2", "rituximab", draft=True),),
        order=lenalidomide(daily_dose_mg=20.0, reason_refs=("Condition/mzl1",)),
    )
    base.update(changes)
    return make_case(**base)


def test_mzl_second_line_with_rituximab_is_met_and_first_line_is_not():
    prior = med("MedicationRequest/old", "rituximab", "bendamustine", status="completed", authored=date(2025, 1, 5))
    assessment = assess(mzl_case(medications=(*mzl_case().medications, prior)), load_policy())
    assert clause(assessment, "I.D.4.b").status is MET
    assert clause(assessment, "I.D.4.a").status is NOT_MET
    assert assessment.likelihood == "likely-approved"


def test_mzl_no_history_cannot_tell_the_line():
    assessment = assess(mzl_case(), load_policy())
    assert clause(assessment, "I.D.4.a").status is UNKNOWN
    assert clause(assessment, "I.D.4.b").status is UNKNOWN


def test_prior_therapy_for_another_diagnosis_is_not_a_prior_line():
    ra = Coding(ICD10, "M06.9")
    other = condition("Condition/ra1", code="M06.9")
    prior = replace(
        med("MedicationRequest/old", "rituximab", status="completed", authored=date(2025, 1, 5)), reason_codes=(ra,)
    )
    case = mzl_case(conditions=(*mzl_case().conditions, other), medications=(*mzl_case().medications, prior))
    assert clause(assess(case, load_policy()), "I.D.4.b").status is UNKNOWN


def test_mzl_dose_ceiling_is_20():
    assessment = assess(mzl_case(order=lenalidomide(daily_dose_mg=25.0)), load_policy())
    assert assessment.dose_ceiling_mg == 20 and assessment.dose_exceeds_ceiling is True
    assert assessment.role_clauses["dose"] == "CP.PHAR.71 I.D.7"


def test_fl_later_line_with_obinutuzumab():
    case = make_case(
        conditions=(condition("Condition/fl1", "follicular-lymphoma", code="C82.0A"),),
        medications=(
            med("MedicationRequest/g1", "obinutuzumab", draft=True),
            med("MedicationRequest/old", "rituximab", status="completed", authored=date(2024, 5, 1)),
        ),
        order=lenalidomide(daily_dose_mg=20.0, reason_refs=("Condition/fl1",)),
    )
    assessment = assess(case, load_policy())
    assert assessment.indication == "follicular-lymphoma"
    assert clause(assessment, "I.E.4.b.ii").status is MET
    assert assessment.likelihood == "likely-approved"


# --- several diagnoses ----------------------------------------------------------------------


def test_the_order_reason_wins_then_the_best_supported():
    mcl = condition("Condition/mcl1", "mantle-cell-lymphoma", code="C83.10")
    fl = condition("Condition/fl1", "follicular-lymphoma", code="C82.00")
    rituximab = med("MedicationRequest/r2", "rituximab", draft=True)
    named = make_case(
        conditions=(mcl, fl), medications=(rituximab,), order=lenalidomide(reason_refs=("Condition/fl1",))
    )
    assert assess(named, load_policy()).indication == "follicular-lymphoma"
    unnamed = replace(named, order=lenalidomide(reason_refs=()))
    # MCL with rituximab is fully met; FL's line cannot be told: MCL is better supported
    assert assess(unnamed, load_policy()).indication == "mantle-cell-lymphoma"


# --- I.G / III ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "policy"),
    [("commercial", "CP.CPA.09"), ("marketplace", "HIM.PA.154"), ("medicaid", "CP.PMN.53")],
)
def test_an_uncovered_diagnosis_is_denied_and_names_the_referral_policy(line, policy):
    case = make_case(conditions=(condition("Condition/bc1", "other", code="C50.911"),), coverage=coverage(line))
    assessment = assess(case, load_policy())
    assert assessment.indication == "other"
    assert assessment.likelihood == "likely-denied"
    assert assessment.clauses == ("CP.PHAR.71 I.G", "CP.PHAR.71 III.A")
    first = assessment.criteria[0]
    assert first.status is NOT_MET and policy in first.reason and "I.G.1" in first.reason


def test_unknown_line_of_business_names_every_referral_policy():
    case = make_case(conditions=(condition("Condition/bc1", "other", code="C50.911"),), coverage=None)
    reason = assess(case, load_policy()).criteria[0].reason
    assert all(name in reason for name in ("CP.CPA.09", "HIM.PA.154", "CP.PMN.53"))


def test_a_covered_diagnosis_beside_an_uncovered_one_is_judged():
    case = make_case(
        conditions=(condition("Condition/bc1", "other", code="C50.911"), condition("Condition/mm1", "multiple-myeloma"))
    )
    assert assess(case, load_policy()).indication == "multiple-myeloma"


def test_no_diagnosis_stays_unknown():
    assessment = assess(make_case(conditions=()), load_policy())
    assert assessment.indication == "unknown" and assessment.likelihood == "needs-documentation"


# --- II continued therapy ------------------------------------------------------------------


def on_lenalidomide(days_ago: int, dose: float | None = 25.0):
    start = date.fromordinal(make_case().as_of.toordinal() - days_ago)
    record = med("MedicationRequest/len0", "lenalidomide", status="active", authored=start)
    previous = replace(lenalidomide(ref="MedicationRequest/len0", status="active"), daily_dose_mg=dose)
    return {"medications": (*make_case().medications, record), "prior_lenalidomide": (previous,)}


def test_thirty_days_of_lenalidomide_is_continued_therapy():
    assessment = assess(make_case(**on_lenalidomide(60)), load_policy())
    assert assessment.pathway == "continued"
    assert assessment.indication == "multiple-myeloma"
    assert assessment.clauses == ("CP.PHAR.71 II.A",)
    assert assessment.role_clauses["dose"] == "CP.PHAR.71 II.A.5"
    statuses = {r.clause.split()[-1]: r.status for r in assessment.criteria}
    assert statuses == {"II.A.1": MET, "II.A.2": UNKNOWN, "II.A.3": MET, "II.A.4": MET, "II.A.5": MET}
    assert assessment.approval_months == 12


def test_less_than_thirty_days_stays_initial():
    assert assess(make_case(**on_lenalidomide(10)), load_policy()).pathway == "initial"


def test_a_dose_increase_above_the_mds_ceiling_fails_ii_a_5a():
    case = mds_case(order=lenalidomide(daily_dose_mg=15.0), **on_lenalidomide(90, dose=10.0))
    case = replace(case, medications=case.medications)
    assessment = assess(case, load_policy())
    assert assessment.pathway == "continued" and assessment.indication == "myelodysplastic-syndrome"
    assert clause(assessment, "II.A.5.a.i").status is NOT_MET
    assert clause(assessment, "II.A.5").status is UNKNOWN  # 5.b: literature can support it
    assert assessment.dose_exceeds_ceiling is True and assessment.dose_ceiling_mg == 10


def test_the_same_dose_above_the_ceiling_is_not_an_increase():
    case = mds_case(order=lenalidomide(daily_dose_mg=15.0), **on_lenalidomide(90, dose=15.0))
    assessment = assess(case, load_policy())
    assert clause(assessment, "II.A.5.a.i").status is MET
    assert assessment.dose_exceeds_ceiling is False


def test_previous_dose_unknown_above_the_ceiling_is_unknown():
    case = mds_case(order=lenalidomide(daily_dose_mg=15.0), **on_lenalidomide(90, dose=None))
    assessment = assess(case, load_policy())
    assert clause(assessment, "II.A.5.a.i").status is UNKNOWN
    assert assessment.dose_exceeds_ceiling is None


# --- I.F NCCN off-label list -------------------------------------------------------------------


def offlabel(feature: str, code: str, ref: str = "Condition/f1"):
    return replace(condition(ref, "nccn-off-label", code=code), features=frozenset({feature}))


def test_al_amyloidosis_with_dexamethasone_is_approved():
    case = make_case(conditions=(offlabel("f-al-amyloidosis", "E85.81"),), order=lenalidomide(reason_refs=()))
    assessment = assess(case, load_policy())
    assert assessment.indication == "nccn-off-label"
    assert assessment.clauses == ("CP.PHAR.71 I.F",)
    assert clause(assessment, "I.F.1.b").status is MET
    assert assessment.likelihood == "likely-approved"
    assert assessment.role_clauses["dose"] == "CP.PHAR.71 I.F.6"


def test_al_amyloidosis_without_dexamethasone_is_unknown():
    case = make_case(conditions=(offlabel("f-al-amyloidosis", "E85.81"),), medications=())
    assert clause(assess(case, load_policy()), "I.F.1").status is UNKNOWN


def test_an_entry_whose_conditions_no_code_shows_asks_for_them():
    case = make_case(conditions=(offlabel("f-b-cell-lymphoma", "C83.30"),))
    result = clause(assess(case, load_policy()), "I.F.1.l")
    assert result.status is UNKNOWN and "second-line" in result.reason and result.evidence == ("Condition/f1",)


@pytest.mark.parametrize(
    ("specialties", "feature", "expected"),
    [
        (("oncology",), "f-kaposi", MET),  # an oncologist qualifies under a and b
        (("immunology",), "f-kaposi", UNKNOWN),  # only if HIV-related, which no code shows
        (("hematology",), "f-kaposi", UNKNOWN),  # only if not HIV-related
        (("hematology",), "f-ptcl", MET),
        (("immunology",), "f-ptcl", UNKNOWN),  # no oncologist/hematologist: consultation can be documented
    ],
)
def test_i_f_2_specialist_rule_for_hiv_related_kaposi_sarcoma(specialties, feature, expected):
    from .builders import prescriber

    case = make_case(conditions=(offlabel(feature, "C46.0"),), prescriber=prescriber(*specialties))
    assert clause(assess(case, load_policy()), "I.F.2").status is expected


def test_lenalidomide_that_ended_long_ago_is_not_continued_therapy():
    start = date(2024, 1, 1)
    record = med("MedicationRequest/len0", "lenalidomide", status="completed", authored=start)
    assert assess(make_case(medications=(*make_case().medications, record)), load_policy()).pathway == "initial"


def test_recent_completed_rems_fills_are_continued_therapy():
    fills = (
        med("MedicationRequest/len-a", "lenalidomide", status="completed", authored=date(2026, 9, 20)),
        med("MedicationRequest/len-b", "lenalidomide", status="completed", authored=date(2026, 10, 20)),
    )
    assessment = assess(make_case(medications=(*make_case().medications, *fills)), load_policy())
    assert assessment.pathway == "continued"
    assert assessment.criteria[0].evidence == ("MedicationRequest/len-a", "MedicationRequest/len-b")


def test_stopped_lenalidomide_is_not_currently_received():
    record = med("MedicationRequest/len0", "lenalidomide", status="stopped", authored=date(2026, 10, 1))
    assert assess(make_case(medications=(*make_case().medications, record)), load_policy()).pathway == "initial"
