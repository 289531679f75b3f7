"""Every resource of the published vendor and HL7 examples through the mappers, with the facts
asserted (issue 12, "Real vendor shapes"). The US Core examples (CC0) are copied in
``tests/fixtures/hl7-us-core``; the Epic and Oracle ones state no license and are read from
``../shared/fixtures/vendor-examples`` (skipped, with the reason, when it is absent); our own
lenalidomide data modeled on their shapes is in ``test_vendor_modeled.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from fhir_mappers.case import build_cases, lenalidomide_draft_refs
from fhir_mappers.condition import map_condition
from fhir_mappers.coverage import map_coverage
from fhir_mappers.medication_request import map_lenalidomide_order, map_medication_on_record
from fhir_mappers.observation import map_observation
from fhir_mappers.patient import map_patient
from fhir_mappers.practitioner import map_prescriber
from fhir_mappers.rems_evidence import map_rems_evidence
from fhir_mappers.resources import iter_resources
from tests.conftest import FIXTURES, SHARED, shared_files

ON = date(2026, 11, 20)


def summary(resource: dict[str, Any]) -> dict[str, Any]:
    kind = resource.get("resourceType")
    if kind == "MedicationRequest":
        order, med = map_lenalidomide_order(resource), map_medication_on_record(resource)
        return {
            "drug": med.display,
            "ingredients": sorted(med.ingredients),
            "per_day": order.administrations_per_day,
            "mg_per_dose": order.dose_per_administration_mg,
            "daily_mg": order.daily_dose_mg,
            "supply": (order.stated_days_supply, order.computed_days_supply),
        }
    if kind == "Condition":
        facts = map_condition(resource)
        return {
            "diagnosis": facts.active,
            "present": facts.current,
            "indications": sorted(facts.indications),
            "codes": [c.code for c in facts.codes],
        }
    if kind == "Observation":
        lab = map_observation(resource)
        rems = map_rems_evidence({}, {"observations": resource}, now=datetime(2026, 11, 20, tzinfo=UTC))
        return {
            "lab": (lab.kind, lab.value, lab.unit) if lab else None,
            "cbc": bool(rems.cbc),
            "pregnancy_status": [s.value for s in rems.pregnancy_status],
            "pregnancy_tests": [t.result for t in rems.pregnancy_tests],
        }
    if kind == "Patient":
        facts = map_patient(resource)
        return {"sex": facts.sex, "gender": facts.gender_recorded, "born": facts.birth_date}
    if kind == "Coverage":
        facts = map_coverage([resource], None, on=ON)
        return {"current": facts is not None, "line": facts.line_of_business if facts else None}
    if kind in ("Practitioner", "PractitionerRole"):
        facts = map_prescriber([resource], None)
        return {"specialties": sorted(facts.specialties), "taxonomy": sorted(facts.specialty_codes)}
    return {"mapped": False}


def summaries(document: Any) -> dict[str, dict[str, Any]]:
    """Each resource of a file (a Bundle's entries, or the resource itself), by type/id."""
    found = list(iter_resources(document)) if document.get("resourceType") == "Bundle" else [document]
    return {f"{r.get('resourceType')}/{r.get('id')}": summary(r) for r in found}


# What each file reads as. Notable shapes: Epic encounter diagnoses with no clinicalStatus count
# as diagnoses; the resolved "Pregnant" problem and the entered-in-error one do not; frequency only
# in timing.code (Q4H: 6 a day); Epic's "ordered" dose (80 mg) over its admin amount (27 mL); the
# q28-day omalizumab is no treatment cycle; the masked hemoglobin has no value; Soarian's
# comparator-in-a-string WBC is a dated CBC; coverages that ended before the order are not current.
EXPECTED: dict[str, dict[str, dict]] = {
    "epic-awell/Patient-e6W8gNFzAcLllJ471FPY4kg3.json": {
        "Patient/e6W8gNFzAcLllJ471FPY4kg3": {"sex": "male", "gender": "male", "born": date(1986, 5, 1)}
    },
    "epic-chop-dev/Bundle-List-hospital-problems-empty.json": {},
    "epic-chop-dev/Condition-eCecTpP0.WVKMrPm76KiWiSE.QmKBtynzEhr01JHN7KaZY5xZCOyQh2eH-if4b7iVCb.RmmJoFsDfZg.DhTEvBg3.json": {  # noqa: E501
        "Condition/eCecTpP0.WVKMrPm76KiWiSE.QmKBtynzEhr01JHN7KaZY5xZCOyQh2eH-if4b7iVCb.RmmJoFsDfZg.DhTEvBg3": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["427679007", "493.91", "J45.22"],
        }
    },
    "epic-chop-dev/Condition-eCecTpP0.WVKMrPm76KiWiTRmtflEyDKXYHfJ0UBxxZ066d2jutuUcMOnxCntPmMyv-f9ZmTIs2LNTrM2FGDGfw3.json": {  # noqa: E501
        "Condition/eCecTpP0.WVKMrPm76KiWiTRmtflEyDKXYHfJ0UBxxZ066d2jutuUcMOnxCntPmMyv-f9ZmTIs2LNTrM2FGDGfw3": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["10674791000119101", "493.02", "J45.21"],
        }
    },
    "epic-chop-dev/Condition-eCecTpP0.WVKMrPm76KiWiTRmtflEyDKXYHfJ0UBxxZ1bqqA79qJdhZcpNhm5JuN4RV6aAIIT39nUstz7DCIF0Q3.json": {  # noqa: E501
        "Condition/eCecTpP0.WVKMrPm76KiWiTRmtflEyDKXYHfJ0UBxxZ1bqqA79qJdhZcpNhm5JuN4RV6aAIIT39nUstz7DCIF0Q3": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["707512002", "493.90", "J45.40"],
        }
    },
    "epic-chop-dev/MedicationRequest-e2AEzkXVju0jHSwVabowCtQuL1e6h6YBuAJro3pQ2OCc3.json": {
        "MedicationRequest/e2AEzkXVju0jHSwVabowCtQuL1e6h6YBuAJro3pQ2OCc3": {
            "drug": "fluticasone 44 mcg inhaler",
            "ingredients": [],
            "per_day": 2.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "epic-chop-dev/MedicationRequest-e6RD1bwXJPYa6-CYaYPaOp0OhuvfPDIWcXUS8uukwuqs3.json": {
        "MedicationRequest/e6RD1bwXJPYa6-CYaYPaOp0OhuvfPDIWcXUS8uukwuqs3": {
            "drug": "dexamethasone tablet",
            "ingredients": ["dexamethasone"],
            "per_day": None,
            "mg_per_dose": 4.0,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "epic-chop-dev/MedicationRequest-ePB3qpLsu5Xf6VCQxujqldzWJ0tZmvHg94D35WFv9oR83.json": {
        "MedicationRequest/ePB3qpLsu5Xf6VCQxujqldzWJ0tZmvHg94D35WFv9oR83": {
            "drug": "fluticasone 44 mcg inhaler",
            "ingredients": [],
            "per_day": 2.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (180.0, None),
        }
    },
    "epic-chop-dev/MedicationRequest-eSl.ysI40J7l64CwRhCyFelVOVyQZSKAKZm4Vp.-0jbI3.json": {
        "MedicationRequest/eSl.ysI40J7l64CwRhCyFelVOVyQZSKAKZm4Vp.-0jbI3": {
            "drug": "OXYCODONE-ASPIRIN 4.8355-325 MG OR TABS",
            "ingredients": [],
            "per_day": 1.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, 1.0),
        }
    },
    "epic-chop-dev/MedicationRequest-ev.ga0l-px45Ew04372qlABuLnKnHlcmwrTwn96juim03.json": {
        "MedicationRequest/ev.ga0l-px45Ew04372qlABuLnKnHlcmwrTwn96juim03": {
            "drug": "prednisoLONE solution",
            "ingredients": [],
            "per_day": None,
            "mg_per_dose": 80.0,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "epic-chop-dev/MedicationRequest-ezkiMjD5E7bY0iqCFYigOsZvIpgi2VGk03M6g6kzA1is3.json": {
        "MedicationRequest/ezkiMjD5E7bY0iqCFYigOsZvIpgi2VGk03M6g6kzA1is3": {
            "drug": "ACETAMINOPHEN-CODEINE 300-30 MG OR TABS",
            "ingredients": [],
            "per_day": 6.0,
            "mg_per_dose": 30.0,
            "daily_mg": 180.0,
            "supply": (1.0, None),
        }
    },
    "epic-chop-dev/MedicationRequest-eznE67YHGLl9Kd0LnPrEsp3SFrU1teYzepNzAdfh4Bh83.json": {
        "MedicationRequest/eznE67YHGLl9Kd0LnPrEsp3SFrU1teYzepNzAdfh4Bh83": {
            "drug": "OMALIZUMAB 150 MG SC SOLR",
            "ingredients": [],
            "per_day": 0.03571428571428571,
            "mg_per_dose": 150.0,
            "daily_mg": 150.0,
            "supply": (None, None),
        }
    },
    "hl7-us-core/Bundle-66c8856b-ba11-4876-8aa8-467aad8c11a2.json": {
        "PractitionerRole/PractitionerRole-1": {"specialties": [], "taxonomy": ["208D00000X", "261QP2300X"]},
        "Practitioner/Practitioner-1011": {"specialties": [], "taxonomy": []},
        "Endpoint/71": {"mapped": False},
    },
    "hl7-us-core/Condition-condition-duodenal-ulcer-res.json": {
        "Condition/condition-duodenal-ulcer-res": {
            "diagnosis": False,
            "present": False,
            "indications": [],
            "codes": ["51868009"],
        }
    },
    "hl7-us-core/Condition-encounter-diagnosis-example1.json": {
        "Condition/encounter-diagnosis-example1": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["39065001", "T20.21"],
        }
    },
    "hl7-us-core/Condition-health-concern-example.json": {
        "Condition/health-concern-example": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["247824007"],
        }
    },
    "hl7-us-core/Coverage-coverage-example.json": {"Coverage/coverage-example": {"current": True, "line": None}},
    "hl7-us-core/MedicationRequest-medicationrequest-contained-oral-axid.json": {
        "MedicationRequest/medicationrequest-contained-oral-axid": {
            "drug": "Nizatidine 15 MG/ML Oral Solution [Axid]",
            "ingredients": [],
            "per_day": 2.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (30.0, None),
        }
    },
    "hl7-us-core/MedicationRequest-self-tylenol.json": {
        "MedicationRequest/self-tylenol": {
            "drug": "Tylenol PM Pill",
            "ingredients": [],
            "per_day": None,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "hl7-us-core/Observation-cbc-hemoglobin.json": {
        "Observation/cbc-hemoglobin": {
            "lab": ("hemoglobin", 17.0, "g/dL"),
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
    "hl7-us-core/Observation-cbc-leukocytes.json": {
        "Observation/cbc-leukocytes": {"lab": None, "cbc": True, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "hl7-us-core/Observation-cbc-platelets.json": {
        "Observation/cbc-platelets": {
            "lab": ("platelets", 200.0, "10*9/L"),
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
    "hl7-us-core/Observation-pregnancy-intent.json": {
        "Observation/pregnancy-intent": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "hl7-us-core/Observation-pregnancy-status.json": {
        "Observation/pregnancy-status": {
            "lab": None,
            "cbc": False,
            "pregnancy_status": ["pregnant"],
            "pregnancy_tests": [],
        }
    },
    "hl7-us-core/Observation-urobilinogen.json": {
        "Observation/urobilinogen": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "hl7-us-core/Patient-example.json": {"Patient/example": {"sex": None, "gender": None, "born": date(1987, 2, 20)}},
    "hl7-us-core/Practitioner-practitioner-pharmacist.json": {
        "Practitioner/practitioner-pharmacist": {"specialties": [], "taxonomy": []}
    },
    "oracle-health-millennium/Bundle-4927bb8b-c8c9-43c4-8553-e21bac8ad557.json": {
        "Observation/SH-81-73121985": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/L-197412603": {
            "lab": ("hemoglobin", None, None),
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        },
    },
    "oracle-health-millennium/Bundle-79c71e5b-2793-4ace-bc5e-190e38784e80.json": {
        "Observation/SH-1-73080191": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/SH-73080191-q4625817": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/SH-73080191-q4625813": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/VS-CV-55046871-SECT-8098": {
            "lab": None,
            "cbc": False,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        },
        "Observation/L-206310347": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/L-206310341": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
        "Observation/VS-197292857": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []},
    },
    "oracle-health-millennium/Condition-a077dc30-8eee-4bb7-ae7f-ced1273f5c68.json": {
        "Condition/a077dc30-8eee-4bb7-ae7f-ced1273f5c68": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": [],
        }
    },
    "oracle-health-millennium/Condition-bed1c2ec-1f33-4097-8296-f6aa01824387.json": {
        "Condition/bed1c2ec-1f33-4097-8296-f6aa01824387": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": [],
        }
    },
    "oracle-health-millennium/Condition-d2572382197.json": {
        "Condition/d2572382197": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["271737000", "D64.9"],
        }
    },
    "oracle-health-millennium/Condition-p73077203.json": {
        "Condition/p73077203": {"diagnosis": False, "present": False, "indications": [], "codes": ["77386006"]}
    },
    "oracle-health-millennium/Condition-p73703587.json": {
        "Condition/p73703587": {
            "diagnosis": False,
            "present": False,
            "indications": [],
            "codes": ["305058001", "818990"],
        }
    },
    "oracle-health-millennium/Coverage-12724066-490016987-490016987.json": {
        "Coverage/12724066-490016987-490016987": {"current": True, "line": None}
    },
    "oracle-health-millennium/Coverage-97954095-98320174.json": {
        "Coverage/97954095-98320174": {"current": False, "line": None}
    },
    "oracle-health-millennium/Coverage-PH-98371617-97701467.json": {
        "Coverage/PH-98371617-97701467": {"current": False, "line": None}
    },
    "oracle-health-millennium/MedicationRequest-261542609.json": {
        "MedicationRequest/261542609": {
            "drug": "Error",
            "ingredients": [],
            "per_day": None,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "oracle-health-millennium/MedicationRequest-313757847.json": {
        "MedicationRequest/313757847": {
            "drug": "hepatitis B adult vaccine (hepatitis B adult vaccine dialysis 40 mcg/mL intramuscular suspension)",
            "ingredients": [],
            "per_day": None,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "oracle-health-millennium/MedicationRequest-314010287.json": {
        "MedicationRequest/314010287": {
            "drug": "acetaminophen (acetaminophen 325 mg oral capsule)",
            "ingredients": [],
            "per_day": 6.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, 7.5),
        }
    },
    "oracle-health-millennium/MedicationRequest-create-request-body.json": {
        "MedicationRequest/None": {
            "drug": "Acetaminophen",
            "ingredients": [],
            "per_day": 2.0,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, 0.21739130434782608),
        }
    },
    "oracle-health-millennium/Observation-L-196186655-update-request-body.json": {
        "Observation/L-196186655": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "oracle-health-millennium/Observation-L-197412603.json": {
        "Observation/L-197412603": {
            "lab": ("hemoglobin", None, None),
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
    "oracle-health-millennium/Observation-L-206310341.json": {
        "Observation/L-206310341": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "oracle-health-millennium/Observation-L-206310347.json": {
        "Observation/L-206310347": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "oracle-health-millennium/Observation-SH-73080191-q4625817.json": {
        "Observation/SH-73080191-q4625817": {"lab": None, "cbc": False, "pregnancy_status": [], "pregnancy_tests": []}
    },
    "oracle-health-millennium/Patient-12724067.json": {
        "Patient/12724067": {"sex": "male", "gender": "male", "born": date(1976, 4, 29)}
    },
    "oracle-health-millennium/Practitioner-4122622.json": {"Practitioner/4122622": {"specialties": [], "taxonomy": []}},
    "oracle-health-soarian/Bundle-1a606271-341b-4ac4-aeb6-1931f27178ba.json": {
        "Condition/A879904FD2FE4B2D90C89FDA84E1285F.NRS.43074": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": [],
        },
        "Condition/A879904FD2FE4B2D90C89FDA84E1285F.DX.23409": {
            "diagnosis": True,
            "present": True,
            "indications": ["other"],
            "codes": ["D03.0"],
        },
        "Condition/A879904FD2FE4B2D90C89FDA84E1285F.PRB.6885579": {
            "diagnosis": True,
            "present": True,
            "indications": [],
            "codes": ["87522002"],
        },
    },
    "oracle-health-soarian/Bundle-37a2aeea-8830-40ca-9bdb-8e58914f88ab.json": {
        "Observation/A879904FD2FE4B2D90C89FDA84E1285F.NRS.SH.50306": {
            "lab": None,
            "cbc": False,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        },
        "Observation/A879904FD2FE4B2D90C89FDA84E1285F.NRS.SH.43091": {
            "lab": None,
            "cbc": False,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        },
    },
    "oracle-health-soarian/Bundle-a4988626-f234-4818-af49-1e8000c69365.json": {
        "Observation/A879904FD2FE4B2D90C89FDA84E1285F.RES.20216": {
            "lab": None,
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
    "oracle-health-soarian/MedicationRequest-A879904FD2FE4B2D90C89FDA84E1285F.17864.json": {
        "MedicationRequest/A879904FD2FE4B2D90C89FDA84E1285F.17864": {
            "drug": "celecoxib",
            "ingredients": [],
            "per_day": None,
            "mg_per_dose": None,
            "daily_mg": None,
            "supply": (None, None),
        }
    },
    "oracle-health-soarian/Observation-A879904FD2FE4B2D90C89FDA84E1285F.NRS.SH.50306.json": {
        "Observation/A879904FD2FE4B2D90C89FDA84E1285F.NRS.SH.50306": {
            "lab": None,
            "cbc": False,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
    "oracle-health-soarian/Observation-A879904FD2FE4B2D90C89FDA84E1285F.RES.20216.json": {
        "Observation/A879904FD2FE4B2D90C89FDA84E1285F.RES.20216": {
            "lab": None,
            "cbc": True,
            "pregnancy_status": [],
            "pregnancy_tests": [],
        }
    },
}


def _case(path: Path) -> tuple[str, dict]:
    return f"{path.parent.name}/{path.name}", json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", shared_files("fixtures", "vendor-examples", pattern="*/*.json"), ids=str)
def test_vendor_examples_read_as_expected(path):
    name, document = _case(path)
    if name.startswith("davinci-crd-ri/"):
        pytest.skip("a CDS Hooks request: tested in test_crd_requests_have_no_lenalidomide")
    assert summaries(document) == EXPECTED[name]


@pytest.mark.parametrize("path", sorted((FIXTURES / "hl7-us-core").glob("*.json")), ids=lambda p: p.name)
def test_us_core_examples_read_as_expected(path):
    name, document = _case(path)
    assert summaries(document) == EXPECTED[name]


def test_every_example_has_its_expected_facts():
    copied = {f"hl7-us-core/{p.name}" for p in (FIXTURES / "hl7-us-core").glob("*.json")}
    assert copied <= set(EXPECTED)
    if SHARED.is_dir():
        shared = {
            f"{p.parent.name}/{p.name}"
            for p in (SHARED / "fixtures" / "vendor-examples").glob("*/*.json")
            if p.parent.name != "davinci-crd-ri"
        }
        assert shared == set(EXPECTED)


@pytest.mark.parametrize("path", sorted((FIXTURES / "davinci-crd-ri").glob("*.json")), ids=lambda p: p.name)
def test_crd_requests_have_no_lenalidomide(path):
    body = json.loads(path.read_text(encoding="utf-8"))
    context = body.get("context", {})
    drafts = context.get("draftOrders", context.get("medications"))
    assert lenalidomide_draft_refs(drafts, None, prefetch=body.get("prefetch")) == []
    assert (
        build_cases(draft_orders=drafts, selections=None, prefetch=body.get("prefetch"), unavailable=None, now=None)
        == []
    )
