"""Write the Lenalidomide REMS sample requests ``sample_bundles/20-*.json`` ... ``31-*.json``.

Each is sample 01 (coverage, prescriber, MM condition, generic lenalidomide 10 mg days 1-21
of 28) with its own patient and the REMS data of its scenario. Orders are authored on
2026-11-20T15:00:00Z. Clinical codes are only those of shared/reference/terminology.md
(LOINC 2106-3 / 21198-7 pregnancy tests, 82810-3 pregnancy status, SNOMED 161712005 /
307429007 menopausal status, ICD-10-CM D46.C); REMS evidence uses our own code system
``urn:lenalidomide-cds:rems`` (README, "REMS evidence convention").

Run: ``.venv/bin/python scripts/make_rems_samples.py`` (rewrites the files).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "sample_bundles"
AUTHORED = "2026-11-20T15:00:00Z"
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
REMS = "urn:lenalidomide-cds:rems"
LEN10 = {
    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "code": "602910",
    "display": "lenalidomide 10 MG Oral Capsule",
}
LAB = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]
SOCIAL = [
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "social-history"}]}
]


def searchset(kind: str, pid: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"https://ehr.example.org/fhir/{kind}?patient={pid}"}],
        "entry": [
            {
                "fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def hcg_test(oid: str, pid: str, when: str, result: str, *, sensitivity: float | None = None) -> dict[str, Any]:
    """A qualitative urine hCG test (LOINC 2106-3), result as text ("Negative"/"Positive")."""
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": LAB,
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": "2106-3",
                    "display": "Choriogonadotropin (pregnancy test) [Presence] in Urine",
                }
            ]
        },
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"text": result},
    }
    if sensitivity is not None:
        obs["component"] = [
            {
                "code": {"coding": [{"system": REMS, "code": "test-sensitivity", "display": "Test sensitivity"}]},
                "valueQuantity": {
                    "value": sensitivity,
                    "unit": "mIU/mL",
                    "system": "http://unitsofmeasure.org",
                    "code": "m[IU]/mL",
                },
            }
        ]
    return obs


def ours(kind: str, oid: str, pid: str, code: str, when: str, **extra: Any) -> dict[str, Any]:
    """An Observation or Procedure coded in our REMS evidence code system."""
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": oid,
        "status": "final" if kind == "Observation" else "completed",
        "code": {"coding": [{"system": REMS, "code": code}], "text": code.replace("-", " ")},
        "subject": {"reference": f"Patient/{pid}"},
        ("effectiveDateTime" if kind == "Observation" else "performedDateTime"): when,
    }
    if kind == "Observation":
        resource["category"] = SOCIAL
    resource.update(extra)
    return resource


def menopause(oid: str, pid: str, since: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": SOCIAL,
        "code": {
            "coding": [{"system": SCT, "code": "161712005", "display": "Menopause, function (observable entity)"}]
        },
        "subject": {"reference": f"Patient/{pid}"},
        "effectivePeriod": {"start": since},
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "307429007", "display": "After menopause"}]},
    }


def cbc(oid: str, pid: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": LAB,
        "code": {
            "coding": [
                {"system": LOINC, "code": "777-3", "display": "Platelets [#/volume] in Blood by Automated count"}
            ]
        },
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": 96, "unit": "10*3/uL", "system": "http://unitsofmeasure.org", "code": "10*3/uL"},
    }


def past_lenalidomide(mid: str, pid: str, start: str, end: str, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [LEN10], "text": LEN10["display"]},
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": start,
        "dosageInstruction": [
            {
                "text": "1 capsule daily days 1-21 of 28",
                "timing": {"repeat": {"boundsPeriod": {"start": start, "end": end}}},
            }
        ],
    }


def med(mid: str, pid: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": "2026-11-01",
    }


def build(
    number: int,
    slug: str,
    *,
    gender: str,
    birth: str,
    name: tuple[str, str],
    observations: list[dict] = (),  # type: ignore[assignment]
    procedures: list[dict] = (),  # type: ignore[assignment]
    medications: list[dict] = (),  # type: ignore[assignment]
    conditions: list[dict] | None = None,
    hook: str = "order-sign",
    order: dict[str, Any] | None = None,
    dispense: dict[str, Any] | None = None,
    with_dex: bool = False,
    practitioner_identifier: bool = False,
) -> None:
    base = json.loads((ROOT / "01-mm-likely-approved.json").read_text(encoding="utf-8"))
    pid = f"pat-{number}"
    body = copy.deepcopy(base)
    body["hook"] = hook
    body["hookInstance"] = f"5e3c0a{number:02d}-7d1b-4c51-9a30-2f4b6c8d{number:04d}"
    body["context"]["patientId"] = pid
    body["context"]["encounterId"] = f"enc-{number}"
    entries = body["context"]["draftOrders"]["entry"]
    if not with_dex:
        entries = entries[:1]
    body["context"]["draftOrders"]["entry"] = entries
    for entry in entries:
        r = entry["resource"]
        r["id"] = r["id"].replace("mr-01", f"mr-{number}")
        r["subject"] = {"reference": f"Patient/{pid}", "display": " ".join(name)}
        r["encounter"] = {"reference": f"Encounter/enc-{number}"}
        r["authoredOn"] = AUTHORED
        r["reasonReference"] = [{"reference": f"Condition/cond-{number}"}]
        r["insurance"] = [{"reference": f"Coverage/cov-{number}"}]
    lenalidomide = entries[0]["resource"]
    lenalidomide["id"] = f"mr-{number}-len10"
    lenalidomide["medicationCodeableConcept"] = {"coding": [LEN10], "text": LEN10["display"]}
    lenalidomide.pop("note", None)
    if dispense:
        lenalidomide["dispenseRequest"].update(dispense)
    if order:
        lenalidomide.update(order)
    if hook == "order-select":
        body["context"]["selections"] = [f"MedicationRequest/{lenalidomide['id']}"]

    prefetch = body["prefetch"]
    patient = prefetch["patient"]
    patient.update({"id": pid, "gender": gender, "birthDate": birth})
    patient["name"] = [{"use": "official", "family": name[1], "given": [name[0]]}]
    patient["identifier"][0]["value"] = f"E20{number:05d}"
    patient.pop("telecom", None)
    patient.pop("address", None)
    if conditions is None:
        condition = prefetch["conditions"]["entry"][0]["resource"]
        condition["id"] = f"cond-{number}"
        condition["subject"] = {"reference": f"Patient/{pid}"}
        condition.pop("note", None)
        conditions = [condition]
    prefetch["conditions"] = searchset("Condition", pid, conditions)
    prefetch["medications"] = searchset("MedicationRequest", pid, list(medications))
    coverage = prefetch["coverage"]["entry"][0]["resource"]
    coverage["id"] = f"cov-{number}"
    for key in ("subscriber", "beneficiary"):
        coverage[key] = {"reference": f"Patient/{pid}", "display": " ".join(name)}
    coverage["subscriberId"] = f"SHP40871{number:03d}-01"
    prefetch["coverage"] = searchset("Coverage", pid, [coverage])
    prefetch["observations"] = searchset("Observation", pid, list(observations))
    prefetch["procedures"] = searchset("Procedure", pid, list(procedures))
    if practitioner_identifier:
        for role in (prefetch["practitioner"], prefetch["practitionerRoles"]["entry"][0]["resource"]):
            role["identifier"] = [{"system": "urn:lenalidomide-cds:rems-prescriber", "value": "RP-0048213"}]
    (ROOT / f"{number}-{slug}.json").write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    p = "pat-"
    build(20, "rems-female-no-pregnancy-test", gender="female", birth="1992-06-03", name=("Maria", "Delgado"))
    build(
        21,
        "rems-initial-one-test-only",
        gender="female",
        birth="1988-02-11",
        name=("Aisha", "Rahman"),
        observations=[hcg_test("obs-21-hcg-1", p + "21", "2026-11-08T09:30:00Z", "Negative")],
    )
    build(
        22,
        "rems-initial-test-25-hours-old",
        gender="female",
        birth="1990-09-27",
        name=("Leah", "Kowalski"),
        observations=[
            hcg_test("obs-22-hcg-1", p + "22", "2026-11-08T09:30:00Z", "Negative"),
            hcg_test("obs-22-hcg-2", p + "22", "2026-11-19T14:00:00Z", "Negative"),
        ],
    )
    build(
        23,
        "rems-initial-valid-pair",
        gender="female",
        birth="1985-12-01",
        name=("Grace", "Okonkwo"),
        observations=[
            hcg_test("obs-23-hcg-1", p + "23", "2026-11-08T09:30:00Z", "Negative", sensitivity=25),
            hcg_test("obs-23-hcg-2", p + "23", "2026-11-20T08:15:00Z", "Negative", sensitivity=25),
        ],
    )
    build(
        24,
        "rems-subsequent-stale-test",
        gender="female",
        birth="1983-04-19",
        name=("Hannah", "Lindgren"),
        medications=[past_lenalidomide("mr-24-len-cycle1", p + "24", "2026-10-23", "2026-11-12")],
        observations=[hcg_test("obs-24-hcg-1", p + "24", "2026-11-11T10:00:00Z", "Negative")],
    )
    build(
        25,
        "rems-positive-pregnancy-test",
        gender="female",
        birth="1994-01-22",
        name=("Sofia", "Marchetti"),
        observations=[hcg_test("obs-25-hcg-1", p + "25", "2026-11-19T11:00:00Z", "Positive")],
    )
    build(
        26,
        "rems-postmenopausal-35-days-refills",
        gender="female",
        birth="1959-08-30",
        name=("Ruth", "Abernathy"),
        observations=[menopause("obs-26-meno", p + "26", "2012-05-01")],
        dispense={
            "numberOfRepeatsAllowed": 2,
            "quantity": {"value": 35, "unit": "capsule", "system": "http://unitsofmeasure.org", "code": "{capsule}"},
            "expectedSupplyDuration": {"value": 35, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
        },
        order={
            "dosageInstruction": [
                {
                    "text": "Take 1 capsule by mouth once daily",
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "route": {"text": "oral"},
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
            ]
        },
    )
    build(
        27,
        "rems-female-child-not-reproductive-potential",
        gender="female",
        birth="2014-07-09",
        name=("Emily", "Tran"),
        observations=[ours("Observation", "obs-27-menarche", p + "27", "menstruation-not-started", "2026-11-02")],
    )
    build(
        28, "rems-female-child-reproductive-potential", gender="female", birth="2011-03-15", name=("Chloe", "Bennett")
    )
    pid = p + "29"
    build(
        29,
        "rems-adult-male-all-evidence",
        gender="male",
        birth="1957-10-05",
        name=("Daniel", "Whitaker"),
        with_dex=True,
        practitioner_identifier=True,
        medications=[med("mr-29-apixaban", pid, "apixaban 2.5 MG Oral Tablet")],
        procedures=[
            ours("Procedure", "proc-29-enroll", pid, "patient-enrollment", "2026-11-18T10:00:00Z"),
            ours("Procedure", "proc-29-contra", pid, "contraception-counseling", "2026-11-18T10:20:00Z"),
            ours("Procedure", "proc-29-counsel", pid, "patient-counseling", "2026-11-18T10:30:00Z"),
        ],
        order={
            "identifier": [{"system": "urn:lenalidomide-cds:rems-authorization", "value": "A83920117"}],
            "extension": [{"url": "urn:lenalidomide-cds:rems-risk-category", "valueCode": "adult-male"}],
        },
        dispense={
            "performer": {
                "identifier": {"system": "urn:lenalidomide-cds:rems-certified-pharmacy", "value": "CP-11872"},
                "display": "Lakeshore Specialty Pharmacy",
            }
        },
    )
    pid = p + "30"
    build(
        30,
        "rems-del5q-mds-cbc-monitoring",
        gender="female",
        birth="1952-02-14",
        name=("Evelyn", "Park"),
        conditions=[
            {
                "resourceType": "Condition",
                "id": "cond-30",
                "clinicalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
                },
                "verificationStatus": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                    ]
                },
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/sid/icd-10-cm",
                            "code": "D46.C",
                            "display": "Myelodysplastic syndrome with isolated del(5q) chromosomal abnormality",
                        }
                    ]
                },
                "subject": {"reference": f"Patient/{pid}"},
                "onsetDateTime": "2026-09-20",
            }
        ],
        medications=[past_lenalidomide("mr-30-len-start", pid, "2026-10-30", "2026-11-19", status="active")],
        observations=[cbc("obs-30-plt", pid, "2026-11-06T09:00:00Z")],
        procedures=[ours("Procedure", "proc-30-hyst", pid, "hysterectomy", "2004-03-10")],
    )
    build(
        31,
        "rems-breastfeeding",
        gender="female",
        birth="1993-05-05",
        name=("Nadia", "Haddad"),
        observations=[
            hcg_test("obs-31-hcg-1", p + "31", "2026-11-08T09:30:00Z", "Negative"),
            hcg_test("obs-31-hcg-2", p + "31", "2026-11-20T09:00:00Z", "Negative"),
            ours("Observation", "obs-31-bf", p + "31", "breastfeeding", "2026-11-20T09:05:00Z", valueBoolean=True),
        ],
    )
    build(
        32, "rems-order-select-short", gender="female", birth="1991-10-10", name=("Julia", "Novak"), hook="order-select"
    )


if __name__ == "__main__":
    main()
