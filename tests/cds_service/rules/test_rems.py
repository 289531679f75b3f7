"""The REMS mapper (fhir_mappers.rems_evidence) and judge (cds_service.rules.rems) on small
FHIR records: each rule's boundary, and that missing data is unverified, never unmet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cds_service.rules.rems import judge, load_rems
from fhir_mappers.case import build_cases
from fhir_mappers.facts import CaseFacts
from tests.fhir_mappers.helpers import bundle, medication_request, rxnorm_concept

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
AUTHORED = "2026-11-20T15:00:00Z"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
REMS = "urn:lenalidomide-cds:rems"


def order(**extra: Any) -> dict[str, Any]:
    base = medication_request(
        "len",
        concept=rxnorm_concept("602910", "lenalidomide 10 MG Oral Capsule"),
        authoredOn=AUTHORED,
        dispense={"expectedSupplyDuration": {"value": 28, "unit": "d"}, "numberOfRepeatsAllowed": 0},
    )
    base.update(extra)
    return base


def case(
    *,
    sex: str = "female",
    birth: str = "1990-01-01",
    observations: list[dict] = (),  # type: ignore[assignment]
    procedures: list[dict] = (),  # type: ignore[assignment]
    conditions: list[dict] = (),  # type: ignore[assignment]
    medications: list[dict] = (),  # type: ignore[assignment]
    practitioner: dict | None = None,
    draft: dict | None = None,
) -> CaseFacts:
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p", "gender": sex, "birthDate": birth},
        "observations": bundle(*observations),
        "procedures": bundle(*procedures),
        "conditions": bundle(*conditions),
        "medications": bundle(*medications),
    }
    if practitioner:
        prefetch["practitioner"] = practitioner
    (out,) = build_cases(
        draft_orders=bundle(draft or order(), kind="collection"),
        selections=None,
        prefetch=prefetch,
        unavailable=set(),
        now=NOW,
    )
    return out


def hcg(oid: str, when: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2106-3"}]},
        "effectiveDateTime": when,
        **value,
        **extra,
    }


def negative(oid: str, when: str, **extra: Any) -> dict[str, Any]:
    return hcg(oid, when, {"valueString": "Negative"}, **extra)


def ours(kind: str, oid: str, code: str, when: str = "2026-11-18", **extra: Any) -> dict[str, Any]:
    key = "effectiveDateTime" if kind == "Observation" else "performedDateTime"
    status = "final" if kind == "Observation" else "completed"
    return {
        "resourceType": kind,
        "id": oid,
        "status": status,
        "code": {"coding": [{"system": REMS, "code": code}]},
        key: when,
        **extra,
    }


def status(c: CaseFacts) -> dict[str, str]:
    return {s.id: s.status for s in judge(c).steps}


def test_the_data_file_loads_and_has_the_contract_step_ids():
    ids = [s["id"] for s in load_rems()["steps"]]
    assert ids == [
        "prescriber-certification",
        "patient-enrollment",
        "patient-survey",
        "prescriber-survey",
        "authorization-number",
        "risk-category-on-prescription",
        "pregnancy-test",
        "contraception-counseling",
        "patient-counseling",
        "days-supply",
        "refills",
        "certified-pharmacy",
    ]
    assert all(s["cite"].startswith("REMS guide") for s in load_rems()["steps"])


# --- risk category ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "birth", "category"),
    [
        ("male", "1960-01-01", "adult-male"),
        ("male", "2012-01-01", "male-child"),
        ("female", "1990-01-01", "adult-female-reproductive-potential"),
        ("female", "2012-01-01", "female-child-reproductive-potential"),
        ("other", "1990-01-01", "unknown"),
    ],
)
def test_category_from_sex_and_age(sex, birth, category):
    assert judge(case(sex=sex, birth=birth)).risk_category == category


def test_unknown_birth_date_is_unknown_category():
    c = case()
    c = CaseFacts(**{**c.__dict__, "age_years": None})
    j = judge(c)
    assert j.risk_category == "unknown"
    assert j.why == "birth date not on record"
    assert "pregnancy-test" in status(c)  # the strictest requirements apply


def test_menopause_must_be_24_months_before_the_order():
    def meno(since: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": "m",
            "status": "final",
            "code": {"coding": [{"system": SCT, "code": "161712005"}]},
            "effectivePeriod": {"start": since},
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": "307429007"}]},
        }

    old = judge(case(birth="1965-01-01", observations=[meno("2024-11-20")]))
    assert old.risk_category == "adult-female-not-reproductive-potential"
    recent = judge(case(birth="1965-01-01", observations=[meno("2024-11-21")]))
    assert recent.risk_category == "adult-female-reproductive-potential"
    assert "not 24 consecutive months" in recent.why


@pytest.mark.parametrize("kind", ["Procedure", "Observation"])
@pytest.mark.parametrize("code", ["hysterectomy", "bilateral-oophorectomy"])
def test_surgery_in_our_code_system_means_not_of_reproductive_potential(kind, code):
    j = judge(case(procedures=[ours(kind, "s", code, "2010-01-01")] if kind == "Procedure" else []))
    if kind == "Observation":
        j = judge(case(observations=[ours(kind, "s", code, "2010-01-01")]))
    assert j.risk_category == "adult-female-not-reproductive-potential"
    assert code.replace("-", " ") in j.why


def test_a_not_done_procedure_is_no_evidence():
    j = judge(case(procedures=[ours("Procedure", "s", "hysterectomy", "2010-01-01", status="not-done")]))
    assert j.risk_category == "adult-female-reproductive-potential"


def test_menstruation_not_started_counts_only_for_children():
    obs = [ours("Observation", "m", "menstruation-not-started")]
    assert judge(case(birth="2014-01-01", observations=obs)).risk_category == "female-child-not-reproductive-potential"
    assert judge(case(birth="1990-01-01", observations=obs)).risk_category == "adult-female-reproductive-potential"


# --- pregnancy tests ------------------------------------------------------------------------


def test_initial_pair_boundaries():
    ok = [negative("a", "2026-11-06T10:00:00Z"), negative("b", "2026-11-19T15:00:00Z")]  # 14 days; exactly 24 h
    assert status(case(observations=ok))["pregnancy-test"] == "met"
    early_too_old = [negative("a", "2026-11-05T10:00:00Z"), negative("b", "2026-11-20T10:00:00Z")]  # 15 days
    assert status(case(observations=early_too_old))["pregnancy-test"] == "unverified"
    early_too_late = [negative("a", "2026-11-11T10:00:00Z"), negative("b", "2026-11-20T10:00:00Z")]  # 9 days
    assert status(case(observations=early_too_late))["pregnancy-test"] == "unverified"
    confirm_stale = [negative("a", "2026-11-08T10:00:00Z"), negative("b", "2026-11-19T14:59:00Z")]
    assert status(case(observations=confirm_stale))["pregnancy-test"] == "unverified"


def test_tests_after_the_order_do_not_count():
    tests = [negative("a", "2026-11-08T10:00:00Z"), negative("b", "2026-11-20T16:00:00Z")]
    assert status(case(observations=tests))["pregnancy-test"] == "unverified"


def test_a_bare_date_order_counts_the_whole_day():
    tests = [negative("a", "2026-11-08T10:00:00Z"), negative("b", "2026-11-20T18:00:00Z")]
    draft = order(authoredOn="2026-11-20")
    assert status(case(observations=tests, draft=draft))["pregnancy-test"] == "met"


def test_insensitive_tests_do_not_count_and_the_card_says_so():
    def component(value: float) -> dict[str, Any]:
        return {
            "component": [
                {
                    "code": {"coding": [{"system": REMS, "code": "test-sensitivity"}]},
                    "valueQuantity": {"value": value, "unit": "mIU/mL"},
                }
            ]
        }

    tests = [
        negative("a", "2026-11-08T10:00:00Z", **component(50)),
        negative("b", "2026-11-20T10:00:00Z", **component(100)),
    ]
    c = case(observations=tests)
    step = next(s for s in judge(c).steps if s.id == "pregnancy-test")
    assert step.status == "unverified"
    assert "not sensitive to 50 mIU/mL" in step.text


def test_quantitative_hcg_reads_against_the_stated_cut_off():
    def quant(oid: str, when: str, value: float) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "21198-7"}]},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "mIU/mL"},
            "referenceRange": [{"high": {"value": 5, "unit": "mIU/mL"}}],
        }

    c = case(observations=[quant("a", "2026-11-08T10:00:00Z", 1), quant("b", "2026-11-20T10:00:00Z", 2)])
    assert status(c)["pregnancy-test"] == "met"
    c = case(observations=[quant("a", "2026-11-20T10:00:00Z", 250)])
    j = judge(c)
    assert j.pregnancy is not None and j.pregnancy.kind == "positive-test"


def test_quantitative_hcg_without_a_cut_off_is_no_result():
    obs = hcg("a", "2026-11-20T10:00:00Z", {"valueQuantity": {"value": 2, "unit": "mIU/mL"}})
    assert case(observations=[obs]).rems.pregnancy_tests[0].result is None


def test_coded_answers_from_the_pregnancy_status_value_set():
    pos = hcg(
        "a",
        "2026-11-20T10:00:00Z",
        {"valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA15173-0"}]}},
    )
    assert case(observations=[pos]).rems.pregnancy_tests[0].result == "positive"
    neg = hcg("a", "2026-11-20T10:00:00Z", {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "60001007"}]}})
    assert case(observations=[neg]).rems.pregnancy_tests[0].result == "negative"


def test_a_later_negative_test_supersedes_an_earlier_positive():
    tests = [hcg("a", "2026-11-01T10:00:00Z", {"valueString": "Positive"}), negative("b", "2026-11-20T10:00:00Z")]
    assert judge(case(observations=tests)).pregnancy is None


def test_pregnancy_status_and_condition_are_critical():
    status_obs = {
        "resourceType": "Observation",
        "id": "ps",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
        "effectiveDateTime": "2026-11-15",
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "77386006"}]},
    }
    j = judge(case(observations=[status_obs]))
    assert j.pregnancy is not None and j.pregnancy.indicator == "critical" and j.unlawful
    condition = {
        "resourceType": "Condition",
        "id": "preg",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": ICD, "code": "Z33.1"}]},
    }
    j = judge(case(conditions=[condition]))
    assert j.pregnancy is not None and j.pregnancy.evidence == ("Condition/preg",)
    assert next(s for s in j.steps if s.id == "pregnancy-test").status == "unmet"


def test_no_pregnancy_finding_for_males():
    tests = [hcg("a", "2026-11-20T10:00:00Z", {"valueString": "Positive"})]
    assert judge(case(sex="male", birth="1960-01-01", observations=tests)).pregnancy is None


def test_breastfeeding_false_is_no_finding():
    obs = [ours("Observation", "bf", "breastfeeding", valueBoolean=False)]
    assert judge(case(observations=obs)).pregnancy is None
    obs = [ours("Observation", "bf", "breastfeeding")]
    assert judge(case(observations=obs)).pregnancy.indicator == "warning"  # type: ignore[union-attr]


# --- initial or subsequent ------------------------------------------------------------------


def past(start: str, end: str, status_: str = "completed") -> dict[str, Any]:
    return medication_request(
        "old",
        status=status_,
        concept=rxnorm_concept("602910"),
        authoredOn=start,
        dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": start, "end": end}}}}],
    )


def test_prescription_kind_from_history():
    assert judge(case()).prescription == "initial"
    assert judge(case(medications=[past("2026-10-01", "2026-10-21")])).prescription == "subsequent"
    j = judge(case(medications=[past("2025-09-01", "2025-11-20")]))
    assert j.prescription == "initial" and "re-enrollment" in j.prescription_why
    assert judge(case(medications=[past("2025-09-01", "2025-11-21")])).prescription == "subsequent"


def test_subsequent_needs_a_test_within_7_days():
    meds = [past("2026-10-01", "2026-10-21")]
    assert (
        status(case(medications=meds, observations=[negative("a", "2026-11-13T15:00:00Z")]))["pregnancy-test"] == "met"
    )
    assert status(case(medications=meds, observations=[negative("a", "2026-11-13T14:00:00Z")]))["pregnancy-test"] == (
        "unverified"
    )


def test_unreadable_history_is_unknown_and_uses_the_initial_rule():
    c = case(observations=[negative("a", "2026-11-19T10:00:00Z")])
    c = CaseFacts(**{**c.__dict__, "unavailable": frozenset({"medications"})})
    j = judge(c)
    assert j.prescription == "unknown"
    assert next(s for s in j.steps if s.id == "pregnancy-test").status == "unverified"


# --- the other steps ------------------------------------------------------------------------


def test_nothing_on_record_is_unverified_never_unmet():
    assert set(status(case()).values()) - {"met"} == {"unverified"}


def test_order_side_evidence():
    draft = order(
        identifier=[{"system": "urn:lenalidomide-cds:rems-authorization", "value": "A1"}],
        extension=[{"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-male"}],
        dispenseRequest={
            "expectedSupplyDuration": {"value": 28, "unit": "d"},
            "performer": {"identifier": {"system": "urn:lenalidomide-cds:rems-certified-pharmacy", "value": "P1"}},
        },
    )
    s = status(case(sex="male", birth="1960-01-01", draft=draft))
    assert s["authorization-number"] == s["prescriber-survey"] == s["risk-category-on-prescription"] == "met"
    assert s["certified-pharmacy"] == s["refills"] == "met"  # no numberOfRepeatsAllowed: no refills


def test_risk_category_mismatch():
    written = order(extension=[{"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-male"}])
    # "adult-male" for a woman is wrong whatever her reproductive potential (issue 12, class 6).
    assert status(case(sex="female", draft=written))["risk-category-on-prescription"] == "unmet"
    # A category that agrees with her sex and age but not with the default stays to confirm.
    not_rp = order(
        extension=[
            {"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-female-not-reproductive-potential"}
        ]
    )
    assert status(case(sex="female", draft=not_rp))["risk-category-on-prescription"] == "unverified"
    female = order(
        extension=[
            {"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-female-reproductive-potential"}
        ]
    )
    assert status(case(sex="male", birth="1960-01-01", draft=female))["risk-category-on-prescription"] == "unmet"
    nonsense = order(extension=[{"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "grown-up"}])
    assert status(case(draft=nonsense))["risk-category-on-prescription"] == "unmet"


def test_pharmacy_without_our_identifier_is_unverified():
    draft = order(dispenseRequest={"performer": {"display": "Corner Drug"}})
    assert status(case(draft=draft))["certified-pharmacy"] == "unverified"


def test_supply_and_refills():
    long = order(dispenseRequest={"expectedSupplyDuration": {"value": 29, "unit": "d"}, "numberOfRepeatsAllowed": 1})
    s = status(case(draft=long))
    assert s["days-supply"] == "unmet" and s["refills"] == "unmet"
    unknown = order(dispenseRequest={})
    assert status(case(draft=unknown))["days-supply"] == "unverified"


def test_step_evidence_and_survey_schedule():
    steps = [
        ours("Procedure", "e", "patient-enrollment"),
        ours("Procedure", "c1", "contraception-counseling"),
        ours("Procedure", "c2", "patient-counseling"),
        ours("Observation", "ps", "patient-survey", "2026-10-21"),
        ours("Observation", "prs", "prescriber-survey", "2026-11-19"),
        ours("Observation", "cert", "prescriber-certification", "2026-01-01"),
    ]
    obs = [s for s in steps if s["resourceType"] == "Observation"]
    procs = [s for s in steps if s["resourceType"] == "Procedure"]
    s = status(case(observations=obs, procedures=procs))
    for step in ("patient-enrollment", "contraception-counseling", "patient-counseling", "prescriber-survey"):
        assert s[step] == "met"
    assert s["prescriber-certification"] == "met"
    assert s["patient-survey"] == "met"  # 30 days: monthly
    obs[0] = ours("Observation", "ps", "patient-survey", "2026-10-19")
    assert status(case(observations=obs, procedures=procs))["patient-survey"] == "unverified"


def test_prescriber_identifier_certifies():
    role = {
        "resourceType": "PractitionerRole",
        "id": "r",
        "identifier": [{"system": "urn:lenalidomide-cds:rems-prescriber", "value": "X"}],
    }
    assert status(case(practitioner=role))["prescriber-certification"] == "met"


def test_enrollment_before_a_12_month_gap_needs_re_enrollment():
    c = case(
        medications=[past("2024-01-01", "2024-03-01")],
        procedures=[ours("Procedure", "e", "patient-enrollment", "2024-01-01")],
    )
    assert status(c)["patient-enrollment"] == "unverified"


# --- monitoring -----------------------------------------------------------------------------


def test_cbc_monitoring_only_in_del5q_mds():
    mds = {
        "resourceType": "Condition",
        "id": "mds",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": ICD, "code": "D46C"}]},
    }
    cbc = {
        "resourceType": "Observation",
        "id": "plt",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "777-3"}]},
        "effectiveDateTime": "2026-11-15",
    }
    items = judge(case(conditions=[mds], observations=[cbc])).monitoring
    assert [(m.id, m.status) for m in items] == [("cbc", "current")]  # 5 days old, weekly
    items = judge(case(conditions=[mds])).monitoring
    assert [(m.id, m.status) for m in items] == [("cbc", "due")]
    assert judge(case()).monitoring == []


def test_thromboprophylaxis_reminder_needs_mm_dexamethasone_and_no_antithrombotic():
    mm = {
        "resourceType": "Condition",
        "id": "mm",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": ICD, "code": "C90.00"}]},
    }
    dex = medication_request("dex", status="active", concept=rxnorm_concept("197582", "dexamethasone 4 MG Oral Tablet"))
    asa = medication_request("asa", status="active", concept={"text": "Aspirin 81 mg EC tablet"})
    assert [m.id for m in judge(case(conditions=[mm], medications=[dex])).monitoring] == ["thromboprophylaxis"]
    assert judge(case(conditions=[mm], medications=[dex, asa])).monitoring == []
    assert judge(case(conditions=[mm])).monitoring == []
