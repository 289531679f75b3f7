"""Write the section I.B-I.E, I.G and II sample requests (``sample_bundles/40-*.json`` ...).

Run ``.venv/bin/python scripts/build_policy_samples.py``; the files are committed, this
script only keeps them consistent. Every clinical code is one of
``../shared/reference/terminology.md`` (verified or likely rows); drugs without a verified
RxNorm code (bendamustine, cyclophosphamide) are given by text only.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "sample_bundles"
BASE = "https://ehr.example.org/fhir"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MALT = (
    "Extranodal marginal zone B-cell lymphoma of mucosa-associated lymphoid tissue [MALT-lymphoma] "
    "not having achieved remission"
)
MARKETPLACE_PLAN = "SHP-MKT-SILVER-2026"  # CDS_LOB_PLAN_OVERRIDES maps it to "marketplace"

LENALIDOMIDE = {
    10: ("602910", "lenalidomide 10 MG Oral Capsule"),
    15: ("643712", "lenalidomide 15 MG Oral Capsule"),
    20: ("1428947", "lenalidomide 20 MG Oral Capsule"),
    25: ("643720", "lenalidomide 25 MG Oral Capsule"),
}
DRUGS = {
    "rituximab": ("1657861", "rituximab Injection"),
    "obinutuzumab": ("1656294", "obinutuzumab Injection"),
    "bortezomib": ("1804994", "bortezomib Injection"),
    "thalidomide": ("360176", "thalidomide 100 MG Oral Capsule"),
    "bendamustine": (None, "bendamustine Injection"),
    "cyclophosphamide": (None, "cyclophosphamide Injection"),
    "epoetin alfa": ("205913", "Procrit (epoetin alfa)"),
    "dexamethasone": ("197582", "dexamethasone 4 MG Oral Tablet"),
}
COVERAGE = {
    "medicaid": ("21", "Medicaid Managed Care", "SHP-MCD-2026"),
    "commercial": ("511", "Commercial Managed Care - HMO", "HMO-GOLD-2026"),
    "marketplace": ("511", "Commercial Managed Care - HMO", MARKETPLACE_PLAN),
}
SPECIALTY = {
    "hematology": ("207RH0000X", "Allopathic & Osteopathic Physicians/Internal Medicine, Hematology"),
    "oncology": ("207RX0202X", "Allopathic & Osteopathic Physicians/Internal Medicine, Medical Oncology"),
    "immunology": (
        "207RI0001X",
        "Allopathic & Osteopathic Physicians/Internal Medicine, Clinical & Laboratory Immunology",
    ),
}


def searchset(kind: str, query: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{BASE}/{kind}?{query}"}],
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def concept(system: str | None, code: str | None, display: str) -> dict[str, Any]:
    if code is None:
        return {"text": display}
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def lenalidomide_order(
    rid: str, patient: str, mg: int, *, status: str = "draft", authored: str = "2026-11-20", reason: str | None = None
) -> dict[str, Any]:
    code, display = LENALIDOMIDE[mg]
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                        "display": "Community",
                    }
                ]
            }
        ],
        "medicationCodeableConcept": concept(RXNORM, code, display),
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": authored,
        "requester": {"reference": "Practitioner/prac-40"},
        "dosageInstruction": [
            {
                "text": "Take 1 capsule by mouth once daily on days 1-21 of each 28-day cycle",
                "timing": {
                    "repeat": {
                        "boundsDuration": {"value": 21, "unit": "days", "system": UCUM, "code": "d"},
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": "d",
                    }
                },
                "route": {"text": "oral"},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule", "system": UCUM, "code": "{capsule}"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 21, "unit": "capsule", "system": UCUM, "code": "{capsule}"},
            "expectedSupplyDuration": {"value": 28, "unit": "days", "system": UCUM, "code": "d"},
        },
    }
    if reason:
        order["reasonReference"] = [{"reference": f"Condition/{reason}"}]
    return order


def other_order(
    rid: str, patient: str, drug: str, *, status: str = "draft", authored: str = "2026-11-20", reason: str | None = None
) -> dict[str, Any]:
    code, display = DRUGS[drug]
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "outpatient",
                        "display": "Outpatient",
                    }
                ]
            }
        ],
        "medicationCodeableConcept": concept(RXNORM, code, display),
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": authored,
        "requester": {"reference": "Practitioner/prac-40"},
        "dosageInstruction": [{"text": f"{display} per regimen", "route": {"text": "intravenous"}}],
    }
    if reason:
        order["reasonReference"] = [{"reference": f"Condition/{reason}"}]
    return order


def condition(cid: str, patient: str, code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": concept(ICD10, code, display),
        "subject": {"reference": f"Patient/{patient}"},
        "onsetDateTime": "2024-01-15",
    }


def lab(oid: str, patient: str, code: str, display: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": concept(LOINC, code, display),
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2026-11-10T08:00:00Z",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def hemoglobin(oid: str, patient: str, value: float) -> dict[str, Any]:
    return lab(oid, patient, "718-7", "Hemoglobin [Mass/volume] in Blood", value, "g/dL")


def epo(oid: str, patient: str, value: float) -> dict[str, Any]:
    return lab(oid, patient, "15061-5", "Erythropoietin (EPO) [Units/volume] in Serum or Plasma", value, "m[IU]/mL")


def request(
    number: int,
    *,
    birth: str,
    gender: str,
    conditions: list[dict[str, Any]],
    drafts: list[dict[str, Any]],
    record: list[dict[str, Any]] = (),  # type: ignore[assignment]
    observations: list[dict[str, Any]] = (),  # type: ignore[assignment]
    line: str = "medicaid",
    specialty: str = "hematology",
) -> dict[str, Any]:
    patient = f"pat-{number}"
    sopt, sopt_display, plan = COVERAGE[line]
    taxonomy, taxonomy_display = SPECIALTY[specialty]
    coverage = {
        "resourceType": "Coverage",
        "id": f"cov-{number}",
        "status": "active",
        "type": concept("https://nahdo.org/sopt", sopt, sopt_display),
        "beneficiary": {"reference": f"Patient/{patient}"},
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "payor": [{"reference": "Organization/org-sunrise-health-plan", "display": "Sunrise Health Plan"}],
        "class": [
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"}]
                },
                "value": plan,
            }
        ],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-40",
        "active": True,
        "practitioner": {"reference": "Practitioner/prac-40"},
        "specialty": [concept("http://nucc.org/provider-taxonomy", taxonomy, taxonomy_display)],
    }
    for order in drafts:
        order["subject"]["reference"] = f"Patient/{patient}"
        order["insurance"] = [{"reference": f"Coverage/cov-{number}"}]
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, f"lenalidomide-sample-{number}")),
        "fhirServer": BASE,
        "context": {
            "userId": "Practitioner/prac-40",
            "patientId": patient,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in drafts]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": patient, "gender": gender, "birthDate": birth},
            "conditions": searchset("Condition", f"patient={patient}", conditions),
            "medications": searchset(
                "MedicationRequest", f"patient={patient}&_include=MedicationRequest:medication", list(record)
            ),
            "coverage": searchset("Coverage", f"patient={patient}&status=active", [coverage]),
            "observations": searchset("Observation", f"patient={patient}&category=laboratory", list(observations)),
            "procedures": searchset("Procedure", f"patient={patient}", []),
            "practitioner": {"resourceType": "Practitioner", "id": "prac-40"},
            "practitionerRoles": searchset("PractitionerRole", "practitioner=prac-40", [role]),
        },
    }


def samples() -> dict[str, dict[str, Any]]:
    p = "pat"
    out: dict[str, dict[str, Any]] = {}
    # --- I.B MDS ---
    out["40-mds-del5q-needs-documentation.json"] = request(
        40,
        birth="1952-06-02",
        gender="male",
        conditions=[
            condition("cond-40", p, "D46.C", "Myelodysplastic syndrome with isolated del(5q) chromosomal abnormality")
        ],
        drafts=[lenalidomide_order("mr-40-len", p, 10, reason="cond-40")],
        observations=[hemoglobin("obs-40-hgb", p, 8.6)],
    )
    out["41-mds-no-del5q-esa-failed.json"] = request(
        41,
        birth="1949-02-11",
        gender="male",
        line="commercial",
        conditions=[condition("cond-41", p, "D46.9", "Myelodysplastic syndrome, unspecified")],
        drafts=[lenalidomide_order("mr-41-len", p, 10, reason="cond-41")],
        record=[other_order("mr-41-epo", p, "epoetin alfa", status="stopped", authored="2026-02-01", reason="cond-41")],
        observations=[hemoglobin("obs-41-hgb", p, 8.1), epo("obs-41-epo", p, 240)],
    )
    out["42-mds-concurrent-thalidomide.json"] = request(
        42,
        birth="1950-09-30",
        gender="male",
        conditions=[
            condition("cond-42", p, "D46.C", "Myelodysplastic syndrome with isolated del(5q) chromosomal abnormality")
        ],
        drafts=[lenalidomide_order("mr-42-len", p, 10, reason="cond-42")],
        record=[other_order("mr-42-thal", p, "thalidomide", status="active", authored="2026-10-01")],
        observations=[hemoglobin("obs-42-hgb", p, 8.9)],
    )
    # --- I.C MCL ---
    out["43-mcl-after-two-regimens.json"] = request(
        43,
        birth="1956-04-18",
        gender="male",
        line="commercial",
        specialty="oncology",
        conditions=[condition("cond-43", p, "C83.18", "Mantle cell lymphoma, lymph nodes of multiple sites")],
        drafts=[lenalidomide_order("mr-43-len", p, 25, reason="cond-43")],
        record=[
            other_order("mr-43-ritux", p, "rituximab", status="completed", authored="2024-02-01", reason="cond-43"),
            other_order("mr-43-benda", p, "bendamustine", status="completed", authored="2024-02-01", reason="cond-43"),
            other_order("mr-43-bort", p, "bortezomib", status="stopped", authored="2025-07-01", reason="cond-43"),
        ],
    )
    out["44-mcl-no-history.json"] = request(
        44,
        birth="1961-12-05",
        gender="female",
        line="marketplace",
        conditions=[condition("cond-44", p, "C83.10", "Mantle cell lymphoma, unspecified site")],
        drafts=[lenalidomide_order("mr-44-len", p, 25, reason="cond-44")],
    )
    out["45-mcl-minor.json"] = request(
        45,
        birth="2009-05-20",
        gender="male",
        conditions=[condition("cond-45", p, "C83.10", "Mantle cell lymphoma, unspecified site")],
        drafts=[
            lenalidomide_order("mr-45-len", p, 25, reason="cond-45"),
            other_order("mr-45-ritux", p, "rituximab", reason="cond-45"),
        ],
    )
    # --- I.D MZL ---
    out["46-mzl-second-line-rituximab.json"] = request(
        46,
        birth="1958-03-03",
        gender="female",
        conditions=[
            condition(
                "cond-46",
                p,
                "C88.40",
                MALT,
            )
        ],
        drafts=[
            lenalidomide_order("mr-46-len", p, 20, reason="cond-46"),
            other_order("mr-46-ritux", p, "rituximab", reason="cond-46"),
        ],
        record=[
            other_order("mr-46-ritux0", p, "rituximab", status="completed", authored="2025-01-10", reason="cond-46"),
            other_order(
                "mr-46-cyclo0", p, "cyclophosphamide", status="completed", authored="2025-01-10", reason="cond-46"
            ),
        ],
    )
    out["47-mzl-line-unknown.json"] = request(
        47,
        birth="1955-08-14",
        gender="male",
        line="commercial",
        conditions=[condition("cond-47", p, "C83.87", "Other non-follicular lymphoma, spleen")],
        drafts=[
            lenalidomide_order("mr-47-len", p, 20, reason="cond-47"),
            other_order("mr-47-ritux", p, "rituximab", reason="cond-47"),
        ],
    )
    out["48-mzl-concurrent-thalidomide.json"] = request(
        48,
        birth="1957-01-22",
        gender="female",
        conditions=[
            condition(
                "cond-48",
                p,
                "C88.40",
                MALT,
            )
        ],
        drafts=[
            lenalidomide_order("mr-48-len", p, 20, reason="cond-48"),
            other_order("mr-48-thal", p, "thalidomide"),
        ],
    )
    # --- I.E FL ---
    out["49-fl-second-line-obinutuzumab.json"] = request(
        49,
        birth="1960-10-09",
        gender="female",
        line="marketplace",
        conditions=[condition("cond-49", p, "C82.08", "Follicular lymphoma grade I, lymph nodes of multiple sites")],
        drafts=[
            lenalidomide_order("mr-49-len", p, 20, reason="cond-49"),
            other_order("mr-49-obin", p, "obinutuzumab", reason="cond-49"),
        ],
        record=[
            other_order("mr-49-ritux0", p, "rituximab", status="completed", authored="2024-04-01", reason="cond-49")
        ],
    )
    out["50-fl-first-line-no-partner.json"] = request(
        50,
        birth="1963-07-27",
        gender="male",
        conditions=[condition("cond-50", p, "C82.00", "Follicular lymphoma grade I, unspecified site")],
        drafts=[lenalidomide_order("mr-50-len", p, 20, reason="cond-50")],
    )
    out["51-fl-minor.json"] = request(
        51,
        birth="2010-02-02",
        gender="female",
        line="commercial",
        conditions=[condition("cond-51", p, "C82.00", "Follicular lymphoma grade I, unspecified site")],
        drafts=[
            lenalidomide_order("mr-51-len", p, 20, reason="cond-51"),
            other_order("mr-51-ritux", p, "rituximab", reason="cond-51"),
        ],
    )
    # --- I.G / III other diagnoses ---
    out["52-other-diagnosis-commercial.json"] = request(
        52,
        birth="1966-05-05",
        gender="male",
        line="commercial",
        conditions=[condition("cond-52", p, "C90.10", "Plasma cell leukemia not having achieved remission")],
        drafts=[lenalidomide_order("mr-52-len", p, 25, reason="cond-52")],
    )
    out["53-other-diagnosis-marketplace.json"] = request(
        53,
        birth="1959-11-11",
        gender="male",
        line="marketplace",
        conditions=[condition("cond-53", p, "C88.00", "Waldenstrom macroglobulinemia not having achieved remission")],
        drafts=[lenalidomide_order("mr-53-len", p, 25, reason="cond-53")],
    )
    # --- II continued therapy ---
    out["54-continued-mm-same-dose.json"] = request(
        54,
        birth="1954-04-04",
        gender="male",
        conditions=[condition("cond-54", p, "C90.00", "Multiple myeloma not having achieved remission")],
        drafts=[lenalidomide_order("mr-54-len", p, 25, reason="cond-54")],
        record=[lenalidomide_order("mr-54-len0", p, 25, status="active", authored="2026-08-01", reason="cond-54")],
    )
    out["55-continued-mds-dose-increase.json"] = request(
        55,
        birth="1948-12-12",
        gender="female",
        line="commercial",
        conditions=[
            condition("cond-55", p, "D46.C", "Myelodysplastic syndrome with isolated del(5q) chromosomal abnormality")
        ],
        drafts=[lenalidomide_order("mr-55-len", p, 15, reason="cond-55")],
        record=[lenalidomide_order("mr-55-len0", p, 10, status="active", authored="2026-06-15", reason="cond-55")],
        observations=[hemoglobin("obs-55-hgb", p, 9.4)],
    )
    # --- I.F NCCN off-label list ---
    out["56-al-amyloidosis-with-dexamethasone.json"] = request(
        56,
        birth="1958-06-06",
        gender="female",
        line="commercial",
        conditions=[condition("cond-56", p, "E85.81", "Light chain (AL) amyloidosis")],
        drafts=[
            lenalidomide_order("mr-56-len", p, 15, reason="cond-56"),
            other_order("mr-56-dex", p, "dexamethasone", reason="cond-56"),
        ],
    )
    out["57-kaposi-sarcoma-immunologist.json"] = request(
        57,
        birth="1975-09-19",
        gender="male",
        specialty="immunology",
        conditions=[condition("cond-57", p, "C46.0", "Kaposi's sarcoma of skin")],
        drafts=[lenalidomide_order("mr-57-len", p, 25, reason="cond-57")],
    )
    out["58-dlbcl-concurrent-thalidomide.json"] = request(
        58,
        birth="1962-03-30",
        gender="male",
        line="marketplace",
        conditions=[condition("cond-58", p, "C83.38", "Diffuse large B-cell lymphoma, lymph nodes of multiple sites")],
        drafts=[lenalidomide_order("mr-58-len", p, 25, reason="cond-58")],
        record=[other_order("mr-58-thal", p, "thalidomide", status="active", authored="2026-10-15")],
    )
    return out


def _fix_patient(body: dict[str, Any]) -> dict[str, Any]:
    """The builders above write "pat"; put the scenario's patient id everywhere."""
    patient = body["context"]["patientId"]
    return json.loads(json.dumps(body).replace('"Patient/pat"', f'"Patient/{patient}"'))


def main() -> None:
    for name, body in samples().items():
        (OUT / name).write_text(json.dumps(_fix_patient(body), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(name)


if __name__ == "__main__":
    main()
