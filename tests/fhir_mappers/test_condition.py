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
        (ICD10CM, "C90.12"),  # plasma cell leukemia in relapse: not multiple myeloma
        (SCT, "109995007"),  # myelodysplastic syndrome: in the same SNOMED group, other display
        (SCT, "73211009"),  # diabetes (the sandbox patient's)
        ("http://example.org/local", "C90.02"),
    ],
)
def test_other_codes_name_no_indication(system, code):
    facts = map_condition(condition(system, code))
    assert facts.indications == frozenset()
    assert facts.relapsed is None


@pytest.mark.parametrize(
    ("clinical", "verification", "active"),
    [
        ("active", None, True),
        ("recurrence", None, True),
        ("relapse", None, True),
        ("remission", None, False),
        ("resolved", None, False),
        ("inactive", None, False),
        ("active", "refuted", False),
        ("active", "entered-in-error", False),
        ("active", "provisional", True),
    ],
)
def test_activity(clinical, verification, active):
    assert map_condition(condition(ICD10CM, "C90.00", clinical=clinical, verification=verification)).active is active


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
