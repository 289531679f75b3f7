"""The CRD coverage-information extension: right codes for each likelihood, CRD invariants q1-q9."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.crd.coverage_information import EXTENSION_URL, coverage_information, coverage_information_action
from fhir_mappers.facts import CaseFacts
from tests.cds_service.rules import builders
from tests.cds_service.rules.builders import lenalidomide, make_case

DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "len-1",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p1"},
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "643720"}]
    },
    "extension": [{"url": "http://example.org/other", "valueString": "kept"}],
}


def _case(coverage: bool = True) -> CaseFacts:
    return make_case(
        order=lenalidomide(ref="MedicationRequest/len-1"),
        coverage=replace(builders.coverage("commercial"), ref="Coverage/cov-1") if coverage else None,
    )


def _assessment(likelihood: str, statuses: list[str]) -> SimpleNamespace:
    criteria = [
        SimpleNamespace(clause=f"CP.PHAR.71 I.A.{n}", status=SimpleNamespace(value=s))
        for n, s in enumerate(statuses, 1)
    ]
    return SimpleNamespace(likelihood=likelihood, criteria=criteria)


CASES = {
    "likely-approved": ["met"] * 7,
    "needs-documentation": ["met", "unknown", "met", "unknown", "met", "met", "met"],
    "likely-denied": ["met", "met", "not-met", "unknown", "not-met", "met", "met"],
}


def _parts(extension: dict) -> dict[str, list]:
    out: dict[str, list] = {}
    for part in extension["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        out.setdefault(part["url"], []).append(value)
    return out


def check_crd_invariants(parts: dict[str, list]) -> None:
    """crd-ci-q1..q9 of CRD 2.2, with q4 enforced as the text means it (no-auth as well)."""
    for required in ("coverage", "covered", "date", "coverage-assertion-id"):
        assert len(parts.get(required, [])) == 1, required
    covered = parts["covered"][0]
    pa_needed = parts.get("pa-needed", [None])[0]
    docs = parts.get("doc-needed", [])
    purposes = parts.get("doc-purpose", [])
    info = parts.get("info-needed", [])
    assert covered in {"covered", "not-covered", "conditional", "indeterminate"}
    assert "questionnaire" not in parts or docs  # q1
    assert not (covered == "not-covered" and pa_needed)  # q2
    if "conditional" in [covered, pa_needed, *docs]:
        assert info  # q3
    if pa_needed in {"satisfied", "no-auth"}:
        assert "withpa" not in purposes  # q4
    assert ("satisfied-pa-id" in parts) == (pa_needed == "satisfied")  # q5
    if "OTH" in info:
        assert parts.get("reason")  # q6
    for reason in parts.get("reason", []):
        assert reason.get("text") or reason.get("coding")  # q7
    if purposes:
        assert parts.get("reason")  # q8
    if "indeterminate" in [covered, pa_needed, *docs]:
        assert parts.get("reason")  # q9


@pytest.mark.parametrize(
    ("likelihood", "expected"),
    [
        ("likely-approved", {"covered": "covered", "pa-needed": "auth-needed", "doc-needed": "clinical"}),
        ("needs-documentation", {"covered": "conditional", "pa-needed": "auth-needed", "info-needed": "OTH"}),
        ("likely-denied", {"covered": "not-covered"}),
    ],
)
def test_codes_follow_the_likelihood_and_invariants_hold(likelihood, expected):
    extension = coverage_information(_case(), _assessment(likelihood, CASES[likelihood]), date(2026, 11, 23))
    assert extension["url"] == EXTENSION_URL
    parts = _parts(extension)
    for key, value in expected.items():
        assert parts[key] == [value]
    if likelihood == "likely-denied":
        assert "pa-needed" not in parts and "doc-purpose" not in parts
        assert "I.A.3" in parts["reason"][0]["text"] and "I.A.5" in parts["reason"][0]["text"]
    if likelihood == "needs-documentation":
        assert "I.A.2" in parts["reason"][0]["text"] and "I.A.4" in parts["reason"][0]["text"]
    assert parts["coverage"] == [{"reference": "Coverage/cov-1"}]
    assert parts["date"] == ["2026-11-23"]
    check_crd_invariants(parts)


def test_assertion_id_is_stable_and_changes_with_the_judgement():
    case = _case()
    first = _parts(
        coverage_information(case, _assessment("likely-approved", CASES["likely-approved"]), date(2026, 11, 23))
    )
    again = _parts(
        coverage_information(case, _assessment("likely-approved", CASES["likely-approved"]), date(2026, 11, 23))
    )
    other = _parts(
        coverage_information(case, _assessment("needs-documentation", CASES["needs-documentation"]), date(2026, 11, 23))
    )
    assert first["coverage-assertion-id"] == again["coverage-assertion-id"]
    assert first["coverage-assertion-id"] != other["coverage-assertion-id"]


def test_action_changes_only_the_extension_and_is_a_valid_medication_request():
    action = coverage_information_action(
        _case(), _assessment("likely-approved", CASES["likely-approved"]), DRAFT, date(2026, 11, 23)
    )
    assert action["type"] == "update" and action["description"]
    resource = action["resource"]
    MedicationRequest.model_validate(resource)
    assert resource["extension"][0] == DRAFT["extension"][0]
    assert resource["extension"][1]["url"] == EXTENSION_URL
    assert {k: v for k, v in resource.items() if k != "extension"} == {
        k: v for k, v in DRAFT.items() if k != "extension"
    }
    assert DRAFT["extension"] == [{"url": "http://example.org/other", "valueString": "kept"}]  # draft untouched


def test_no_action_without_coverage_or_for_other_resource_types():
    assessment = _assessment("likely-approved", CASES["likely-approved"])
    assert coverage_information_action(_case(coverage=False), assessment, DRAFT, date(2026, 11, 23)) is None
    legacy = dict(DRAFT, resourceType="MedicationOrder")
    assert coverage_information_action(_case(), assessment, legacy, date(2026, 11, 23)) is None
