"""CaseFacts from a whole hook call: which orders, and everything beside them."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

from fhir_mappers.case import build_cases, lenalidomide_draft_refs
from tests.conftest import fixture_files
from tests.fhir_mappers.helpers import (
    FIXTURES,
    bundle,
    capture,
    dosage,
    load,
    medication_request,
    rxnorm_concept,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
NUCC = "http://nucc.org/provider-taxonomy"


def _cases(request: dict, **overrides):
    context = request["context"]
    args = {
        "draft_orders": context.get("draftOrders"),
        "selections": context.get("selections") if request.get("hook") == "order-select" else None,
        "prefetch": request.get("prefetch", {}),
        "unavailable": set(),
        "now": NOW,
    }
    args.update(overrides)
    return build_cases(**args)


def test_sandbox_order_sign():
    [case] = _cases(capture("capture-order-sign-007"))
    assert case.order.ref == "MedicationRequest/request-123"
    assert case.order.brand is True
    assert case.order.daily_dose_mg == 10.0
    assert case.order.days_supply == 30.0
    assert case.as_of == date(2026, 11, 22)
    assert case.age_years == 30 and not case.age_uncertain
    assert case.patient.sex == "male"
    assert [c.text for c in case.conditions] == ["Diabetes"]
    assert len(case.medications) == 4 and not any(m.is_draft_order for m in case.medications)
    assert case.coverage is None
    assert not case.prescriber.known
    assert case.unavailable == frozenset()


def test_sandbox_order_select_speaks_about_the_selected_order():
    request = capture("capture-order-select-006")
    assert lenalidomide_draft_refs(request["context"]["draftOrders"], request["context"]["selections"]) == [
        "MedicationRequest/request-123"
    ]
    assert len(_cases(request)) == 1


def test_sandbox_empty_draft_on_page_load_gives_nothing():
    request = capture("capture-order-select-005")
    assert lenalidomide_draft_refs(request["context"]["draftOrders"], request["context"]["selections"]) == []
    assert _cases(request) == []


def test_spec_examples_give_nothing():
    for path in fixture_files(FIXTURES / "spec-examples"):
        request = load(path)
        assert _cases(request, selections=request["context"].get("selections")) == [], path.name


def _session():
    lenalidomide_a = medication_request(
        "len-a",
        concept=rxnorm_concept("643720"),
        dosages=[dosage(1, "{capsule}", code="QD")],
        authoredOn="2026-11-20",
    )
    lenalidomide_b = medication_request("len-b", concept=rxnorm_concept("602912"))
    thalidomide = medication_request("thal", concept=rxnorm_concept("200390", "thalidomide 50 MG Oral Capsule"))
    return bundle(lenalidomide_a, lenalidomide_b, thalidomide, kind=None)


def test_order_select_only_selected_orders_and_other_drafts_are_context():
    cases = build_cases(
        draft_orders=_session(),
        selections=["MedicationRequest/len-b"],
        prefetch={},
        unavailable=set(),
        now=NOW,
    )
    assert [c.order.ref for c in cases] == ["MedicationRequest/len-b"]
    others = {m.ref: m for m in cases[0].medications}
    assert set(others) == {"MedicationRequest/len-a", "MedicationRequest/thal"}
    assert others["MedicationRequest/thal"].ingredients == {"thalidomide"}
    assert others["MedicationRequest/thal"].is_draft_order
    assert cases[0].as_of == NOW.date()  # no authoredOn: today


def test_order_sign_every_lenalidomide_draft():
    drafts = _session()
    assert lenalidomide_draft_refs(drafts, None) == ["MedicationRequest/len-a", "MedicationRequest/len-b"]
    cases = build_cases(draft_orders=drafts, selections=None, prefetch={}, unavailable=set(), now=NOW)
    assert [c.order.ref for c in cases] == ["MedicationRequest/len-a", "MedicationRequest/len-b"]
    assert cases[0].as_of == date(2026, 11, 20)
    assert cases[0].order.daily_dose_mg == 25.0


def test_selection_in_absolute_form_and_unknown_selection():
    drafts = _session()
    assert lenalidomide_draft_refs(drafts, ["https://ehr.example/fhir/MedicationRequest/len-a"]) == [
        "MedicationRequest/len-a"
    ]
    assert lenalidomide_draft_refs(drafts, ["MedicationRequest/nope", 42]) == []
    assert lenalidomide_draft_refs(drafts, []) == []


def test_record_medications_exclude_the_order_and_drafts_win():
    drafts = _session()
    on_record_copy = copy.deepcopy(drafts["entry"][0]["resource"])  # len-a, also on the server as a draft
    pomalidomide = medication_request("pom", concept={"text": "Pomalyst 4 mg"}, status="active")
    [case] = build_cases(
        draft_orders=drafts,
        selections=["MedicationRequest/len-a"],
        prefetch={"medications": bundle(on_record_copy, pomalidomide)},
        unavailable=set(),
        now=NOW,
    )
    refs = [m.ref for m in case.medications]
    assert "MedicationRequest/len-a" not in refs
    assert refs.count("MedicationRequest/len-b") == 1
    pom = next(m for m in case.medications if m.ref == "MedicationRequest/pom")
    assert pom.ingredients == {"pomalidomide"} and not pom.is_draft_order and pom.is_current


def test_medication_reference_to_a_prefetched_medication():
    medication = {"resourceType": "Medication", "id": "len10", "code": rxnorm_concept("616114")}
    draft = medication_request("mr", medicationReference={"reference": "Medication/len10"})
    drafts = bundle(draft)
    prefetch = {"medications": bundle(medication)}
    assert lenalidomide_draft_refs(drafts, None) == []
    assert lenalidomide_draft_refs(drafts, None, prefetch=prefetch) == ["MedicationRequest/mr"]
    [case] = build_cases(draft_orders=drafts, selections=None, prefetch=prefetch, unavailable=set(), now=NOW)
    assert case.order.medication_source == "reference"
    assert case.order.brand is True


def test_patient_conditions_prescriber_coverage_and_unavailable():
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "2008"},
        "conditions": bundle(
            {
                "resourceType": "Condition",
                "id": "mm",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "109989006"}]},
            }
        ),
        "medications": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "timeout"}],
        },
        "coverage": bundle(
            {
                "resourceType": "Coverage",
                "id": "cov",
                "status": "active",
                "type": {"coding": [{"system": "https://nahdo.org/sopt", "code": "21"}]},
            }
        ),
        "practitioner": {"resourceType": "Practitioner", "id": "doc"},
        "practitionerRoles": bundle(
            {
                "resourceType": "PractitionerRole",
                "id": "r",
                "specialty": [{"coding": [{"system": NUCC, "code": "207RH0003X"}]}],
            }
        ),
        "observations": None,
    }
    [case] = build_cases(
        draft_orders=_session(),
        selections=["MedicationRequest/len-a"],
        prefetch=prefetch,
        unavailable={"procedures"},
        now=NOW,
    )
    assert case.patient.sex == "female"
    assert case.age_years == 17 and case.age_uncertain  # born some day of 2008, judged on 2026-11-20
    assert case.conditions[0].indications == {"multiple-myeloma"}
    assert case.prescriber.known and case.prescriber.ref == "Practitioner/doc"
    assert case.prescriber.specialties == {"hematology", "oncology"}
    assert case.coverage.line_of_business == "medicaid"
    assert case.unavailable == {"procedures", "medications"}


def test_order_date_keeps_its_offset_and_instants_are_utc():
    late = medication_request("late", concept=rxnorm_concept("602910"), authoredOn="2026-11-22T23:30:00-05:00")
    [case] = build_cases(
        draft_orders=bundle(late),
        selections=None,
        prefetch={"patient": {"resourceType": "Patient", "id": "p", "birthDate": "2008-11-23"}},
        unavailable=set(),
        now=NOW,
    )
    assert case.as_of == date(2026, 11, 22)  # the date the prescriber wrote, in its own offset
    assert case.age_years == 17
    assert case.order.authored_on == datetime(2026, 11, 23, 4, 30, tzinfo=UTC)


def test_drafts_without_id_or_of_other_types_are_not_spoken_about():
    no_id = {"resourceType": "MedicationRequest", "medicationCodeableConcept": rxnorm_concept("602910")}
    other = {
        "resourceType": "MedicationStatement",
        "id": "s",
        "medicationCodeableConcept": rxnorm_concept("602910"),
    }
    assert lenalidomide_draft_refs(bundle(no_id, other), None) == []
