"""Lenalidomide data of our own, modeled on the vendor shapes of ../shared/fixtures/vendor-examples
(which state no license and are not copied): the facts a lenalidomide order or record gives."""

from __future__ import annotations

from typing import Any

from fhir_mappers.condition import map_condition
from fhir_mappers.lab_results import read_presence
from fhir_mappers.medication_request import is_lenalidomide, map_lenalidomide_order
from fhir_mappers.rems_evidence import _hcg

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def order(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "len", "status": "draft", "intent": "order", **fields}


def test_oracle_millennium_shape_tenant_synonym_and_frequency_only_in_timing_code():
    mr = order(
        medicationCodeableConcept={
            "coding": [
                {"system": "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/synonym", "code": "2751006"},
                {"system": RXNORM, "code": "602910", "display": "lenalidomide 10 MG Oral Capsule"},
            ],
            "text": "lenalidomide 10 mg capsule",
        },
        dosageInstruction=[
            {
                "text": "10 mg = 1 cap, Oral, Daily",
                "timing": {
                    "repeat": {"boundsPeriod": {"start": "2026-11-20T15:00:00.000Z"}},
                    "code": {
                        "coding": [
                            {"system": "https://fhir.cerner.com/ec2458f2/codeSet/4003", "code": "696530"},
                            {"system": GTS, "code": "QD"},
                        ],
                        "text": "Daily",
                    },
                },
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "cap", "code": "{Capsule}"}}],
            }
        ],
        dispenseRequest={"quantity": {"value": 28, "unit": "cap"}, "numberOfRepeatsAllowed": 0},
    )
    facts = map_lenalidomide_order(mr)
    assert is_lenalidomide(mr)
    assert (facts.daily_dose_mg, facts.administrations_per_day, facts.days_supply) == (10, 1, 28)


def test_epic_shape_three_disagreeing_dose_entries_read_the_ordered_one():
    def entry(kind: str, value: float, unit: str) -> dict[str, Any]:
        return {
            "type": {"coding": [{"system": "http://epic.com/CodeSystem/dose-rate-type", "code": kind}]},
            "doseQuantity": {"value": value, "unit": unit},
        }

    mr = order(
        medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "602910"}]},
        dosageInstruction=[
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    entry("calculated", 20, "mg"),
                    entry("admin-amount", 1, "{cap}"),
                    entry("ordered", 10, "mg"),
                ],
            }
        ],
    )
    assert map_lenalidomide_order(mr).daily_dose_mg == 10


def test_soarian_shape_contained_medication_with_the_dose_only_in_text_is_an_unknown_dose():
    mr = order(
        medicationReference={"reference": "#17864", "display": "lenalidomide"},
        contained=[
            {
                "resourceType": "Medication",
                "id": "17864",
                "code": {
                    "coding": [
                        {"system": RXNORM, "code": "616114", "display": "lenalidomide 10 MG Oral Capsule [Revlimid]"},
                        {"system": RXNORM, "code": "602910", "display": "lenalidomide 10 MG Oral Capsule"},
                    ]
                },
            }
        ],
        dosageInstruction=[{"text": "lenalidomide (Revlimid) 10 mg Capsule Directions: 1 capsule oral daily"}],
    )
    facts = map_lenalidomide_order(mr)
    assert is_lenalidomide(mr) and facts.strength_mg == 10 and facts.brand is True
    # The dose in words is not guessed: the ceiling (x.7) then asks for the dose.
    assert facts.daily_dose_mg is None and facts.dose_text is not None


def test_epic_encounter_diagnosis_without_statuses_and_with_icd9_beside_icd10_is_a_diagnosis():
    condition = {
        "resourceType": "Condition",
        "id": "dx",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://open.epic.com/FHIR/StructureDefinition/condition-category",
                        "code": "visit-diagnosis",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {"system": "http://hl7.org/fhir/sid/icd-9-cm/diagnosis", "code": "203.00"},
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C90.00"},
            ]
        },
    }
    facts = map_condition(condition)
    assert facts.active and facts.indications == {"multiple-myeloma"}


def test_soarian_shape_comparator_unit_and_system_packed_into_a_string():
    obs = {"resourceType": "Observation", "valueString": "<5UCUM http://unitsofmeasure.org,mIU/mL"}
    found = read_presence(obs, _hcg)
    assert (found.result, found.detection_limit) == ("negative", 5)
