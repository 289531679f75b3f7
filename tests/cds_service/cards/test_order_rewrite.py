"""Rewriting a draft for a suggestion changes only what the suggestion is about."""

from __future__ import annotations

import copy

from fhir.resources.R4B.medicationrequest import MedicationRequest

from cds_service.cards.common import fit_summary
from cds_service.cards.order_rewrite import (
    capsule_product,
    generic_product,
    with_medication,
    with_once_daily_dose,
)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "len",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p"},
    "contained": [
        {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": "643714"}]}}
    ],
    "medicationReference": {"reference": "#m1"},
    "dosageInstruction": [
        {
            "text": "Take 1 capsule twice daily on days 1-21",
            "timing": {
                "repeat": {
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 21, "unit": "d"},
                },
                "code": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BID"}]
                },
            },
            "doseAndRate": [
                {
                    "doseQuantity": {
                        "value": 1,
                        "unit": "capsule",
                        "system": "http://unitsofmeasure.org",
                        "code": "{capsule}",
                    }
                }
            ],
        }
    ],
    "dispenseRequest": {"quantity": {"value": 42, "unit": "capsule"}, "numberOfRepeatsAllowed": 0},
}


def test_products_by_strength_and_brand():
    assert capsule_product(25.0, brand=False)["code"] == "643720"
    assert capsule_product(25.0, brand=True)["code"] == "643722"
    assert capsule_product(7.0, brand=False) is None
    assert generic_product(10.0)["display"] == "lenalidomide 10 MG Oral Capsule"
    assert generic_product(None)["code"] == "342369"


def test_with_medication_replaces_a_contained_reference():
    original = copy.deepcopy(DRAFT)
    updated = with_medication(DRAFT, generic_product(15.0))
    assert original == DRAFT
    assert "medicationReference" not in updated and "contained" not in updated
    assert updated["medicationCodeableConcept"]["coding"][0]["code"] == "643712"
    MedicationRequest.model_validate(updated)


def test_once_daily_rewrite_scales_quantity_and_keeps_the_rest():
    updated = with_once_daily_dose(
        DRAFT,
        product=capsule_product(25.0, brand=False),
        dose_mg=25.0,
        capsules_per_day_before=2.0,
        cycle_text="days 1-21 of each 28-day cycle",
    )
    dosage = updated["dosageInstruction"][0]
    assert dosage["timing"]["repeat"] == {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
        "boundsDuration": {"value": 21, "unit": "d"},
    }
    assert "code" not in dosage["timing"]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 1
    assert dosage["text"] == "Take 1 capsule (25 mg) by mouth once daily on days 1-21 of each 28-day cycle"
    assert updated["dispenseRequest"] == {
        "quantity": {"value": 21, "unit": "capsule"},
        "numberOfRepeatsAllowed": 0,
    }
    assert updated["medicationCodeableConcept"]["coding"][0]["code"] == "643720"
    MedicationRequest.model_validate(updated)


def test_mass_doses_stay_in_mg():
    draft = copy.deepcopy(DRAFT)
    draft["dosageInstruction"][0]["doseAndRate"] = {"doseQuantity": {"value": 15, "unit": "mg", "code": "mg"}}
    updated = with_once_daily_dose(
        draft,
        product=capsule_product(25.0, brand=False),
        dose_mg=25.0,
        capsules_per_day_before=None,
        cycle_text=None,
    )
    assert updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg"
    assert updated["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 25.0
    assert updated["dispenseRequest"]["quantity"]["value"] == 42  # cannot scale without capsules per day


def test_several_dosage_lines_are_not_rewritten():
    draft = copy.deepcopy(DRAFT)
    draft["dosageInstruction"].append(copy.deepcopy(draft["dosageInstruction"][0]))
    assert (
        with_once_daily_dose(
            draft,
            product=capsule_product(25.0, brand=False),
            dose_mg=25.0,
            capsules_per_day_before=2.0,
            cycle_text=None,
        )
        is None
    )


def test_summaries_stay_under_140():
    assert fit_summary("short") == "short"
    long = "word " * 60
    assert len(fit_summary(long)) < 140
