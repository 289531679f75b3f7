"""Condition facts: activity, policy indications from data, relapse."""

from __future__ import annotations

from datetime import date

import pytest

from fhir_mappers.condition import map_condition
from tests.fhir_mappers.helpers import capture, r4

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def condition(system: str, code: str, *, clinical: str | None = "active", verification: str | None = None, **extra):
    out = {"resourceType": "Condition", "id": "c1", "code": {"coding": [{"system": system, "code": code}]}}
    if clinical:
        out["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    if verification:
        out["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    out.update(extra)
    return out


def test_multiple_myeloma_in_relapse():
    facts = map_condition(condition(ICD10CM, "C90.02", verification="confirmed"))
    assert facts.ref == "Condition/c1"
    assert facts.active
    assert facts.indications == {"multiple-myeloma"}
    assert facts.relapsed is True
    assert facts.verification_status == "confirmed"


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (ICD10CM, "C90.00"),
        (ICD10CM, "C9000"),
        (ICD10CM, "c90.01"),
        ("http://hl7.org/fhir/sid/icd-10", "C90.0"),
        (SCT, "109989006"),
    ],
)
def test_multiple_myeloma_codes(system, code):
    facts = map_condition(condition(system, code))
    assert facts.indications == {"multiple-myeloma"}
    assert facts.relapsed is None


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (SCT, "73211009"),  # diabetes (the sandbox patient's)
        (ICD10CM, "I10"),  # not a neoplasm: never "other"
        ("http://example.org/local", "C90.02"),
    ],
)
def test_other_codes_name_no_indication(system, code):
    facts = map_condition(condition(system, code))
    assert facts.indications == frozenset()
    assert facts.relapsed is None


@pytest.mark.parametrize(
    ("clinical", "verification", "on_record", "current"),
    [
        ("active", None, True, True),
        ("recurrence", None, True, True),
        ("relapse", None, True, True),
        # Myeloma in remission on maintenance (I.A.4.c): diagnosed, not present today.
        ("remission", None, True, False),
        ("REMISSION", None, True, False),
        # The record holds the disease as gone: the rules ask to confirm it.
        ("resolved", None, False, False),
        ("inactive", None, False, False),
        ("active", "refuted", False, False),
        ("remission", "refuted", False, False),
        ("active", "entered-in-error", False, False),
        ("remission", "entered-in-error", False, False),
        ("active", "provisional", True, True),
    ],
)
def test_diagnosis_statuses(clinical, verification, on_record, current):
    facts = map_condition(condition(ICD10CM, "C90.00", clinical=clinical, verification=verification))
    assert facts.active is on_record
    assert facts.current is current
    assert facts.clinical_status == clinical.lower()


def test_relapse_status_says_relapsed_like_an_in_relapse_code():
    assert map_condition(condition(ICD10CM, "C90.00", clinical="relapse")).relapsed is True
    assert map_condition(condition(ICD10CM, "C90.00", clinical="recurrence")).relapsed is True
    assert map_condition(condition(ICD10CM, "C90.00", clinical="remission")).relapsed is None
    # A refuted relapse says nothing, and a relapse of a disease the policy does not name neither.
    assert map_condition(condition(ICD10CM, "C90.00", clinical="relapse", verification="refuted")).relapsed is None
    assert map_condition(condition(ICD10CM, "I10", clinical="relapse")).relapsed is None


def test_in_remission_code_is_a_myeloma_diagnosis():
    facts = map_condition(condition(ICD10CM, "C90.01", clinical="remission"))
    assert facts.active and facts.indications == {"multiple-myeloma"} and facts.relapsed is None


def test_missing_clinical_status_is_active_unless_abated():
    assert map_condition(condition(ICD10CM, "C90.00", clinical=None)).active
    assert not map_condition(condition(ICD10CM, "C90.00", clinical=None, abatementDateTime="2024-01-01")).active
    assert map_condition(condition(ICD10CM, "C90.00", clinical=None, abatementBoolean=False)).active


def test_older_versions_plain_code_statuses():
    stu3 = condition(ICD10CM, "C90.00", clinical=None, clinicalStatus="active", verificationStatus="refuted")
    assert not map_condition(stu3).active
    dstu2 = condition(ICD10CM, "C90.00", clinical=None, clinicalStatus="resolved")
    assert not map_condition(dstu2).active


def test_r4_examples():
    burn = map_condition(r4("Condition-example"))
    assert burn.active and burn.indications == frozenset()
    assert burn.text == "Burnt Ear"
    assert burn.onset == date(2012, 5, 24)
    fever = map_condition(r4("Condition-f201"))
    assert not fever.active
    assert fever.recorded == date(2013, 4, 4)
    assert not map_condition(r4("Condition-f202")).active


def test_sandbox_condition_and_non_conditions():
    prefetch = capture("capture-order-sign-007")["prefetch"]
    diabetes = map_condition(prefetch["conditions"]["entry"][0]["resource"])
    assert diabetes.active and diabetes.text == "Diabetes" and diabetes.indications == frozenset()
    assert map_condition(prefetch["patient"]) is None
    assert map_condition([]) is None


@pytest.mark.parametrize(
    ("system", "code", "indication"),
    [
        (ICD10CM, "C90.12", "other"),  # plasma cell leukemia in relapse: not multiple myeloma
        (ICD10CM, "C50.911", "other"),  # any neoplasm code the policy does not list
        (SCT, "109995007", "myelodysplastic-syndrome"),  # same SNOMED group as MM, other display
        (ICD10CM, "D46.9", "myelodysplastic-syndrome"),
        (ICD10CM, "C83.1A", "mantle-cell-lymphoma"),  # FY2025 "in remission" code
        (ICD10CM, "C88.40", "marginal-zone-lymphoma"),  # FY2025 MALT code
        (ICD10CM, "C83.87", "marginal-zone-lymphoma"),  # splenic, via C83.8 (likely)
        (SCT, "763666008", "marginal-zone-lymphoma"),
        (ICD10CM, "C82.0A", "follicular-lymphoma"),
        (SCT, "308121000", "follicular-lymphoma"),
        (ICD10CM, "C83.390", "nccn-off-label"),  # FY2025 primary CNS lymphoma (I.F.1.c)
        (ICD10CM, "D75.81", "nccn-off-label"),  # myelofibrosis, outside the neoplasm chapter
    ],
)
def test_indications_of_sections_b_to_g(system, code, indication):
    assert map_condition(condition(system, code)).indications == {indication}


def test_del5q_is_a_feature_of_d46c_only():
    assert map_condition(condition(ICD10CM, "D46.C")).features == {"del-5q"}
    assert map_condition(condition(ICD10CM, "D46.1")).features == frozenset()
