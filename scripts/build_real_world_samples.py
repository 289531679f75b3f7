"""Build the sample requests 60-66 (issue 12: FHIR as EHRs and lab feeds send it) from curated ones.

Each is a copy of an existing sample with its ids renumbered and the shapes of real data put
in: a converted (C-CDA) diagnosis in remission coded by OID, a stated supply that hides two
cycles of capsules, a lab feed with text results, an unreadable result, two lenalidomide drafts
summed, a risk category that contradicts the record, a sex recorded as unknown. No code is
written here that is not already in the templates or in ``fhir_mappers/data``.

Run: ``python scripts/build_real_world_samples.py``
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "sample_bundles"
ICD10CM_OID = "urn:oid:2.16.840.1.113883.6.90"  # fhir_mappers/data/code_systems.json
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
RISK_CATEGORY = "urn:lenalidomide-cds:rems-risk-category"


def _renumbered(template: str, number: str) -> dict[str, Any]:
    old = template[:2]
    text = (SAMPLES / template).read_text(encoding="utf-8")
    for prefix in ("pat", "mr", "cond", "cov", "obs", "enc", "proc", "prac", "role"):
        for lead in ('"', "/", "="):
            text = text.replace(f"{lead}{prefix}-{old}", f"{lead}{prefix}-{number}")
    body = json.loads(text)
    body["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"lenalidomide-cds/sample/{number}"))
    return body


def _resources(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in body["prefetch"][key]["entry"]]


def _drafts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in body["context"]["draftOrders"]["entry"]]


def remission(body: dict[str, Any]) -> None:
    """Myeloma in remission on maintenance, as converted C-CDA data codes it (OID, no dot)."""
    (condition,) = [c for c in _resources(body, "conditions") if c["id"].startswith("cond-")]
    condition["clinicalStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "remission"}]
    }
    condition["code"] = {
        "coding": [{"system": ICD10CM_OID, "code": "C9001", "display": "Multiple myeloma in remission"}],
        "text": "Multiple myeloma in remission",
    }
    for draft in _drafts(body):
        if draft["id"].endswith("len25"):
            draft["medicationCodeableConcept"] = {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "602910",
                        "display": "lenalidomide 10 MG Oral Capsule",
                    }
                ],
                "text": "lenalidomide 10 mg capsule",
            }
            draft["dosageInstruction"][0]["text"] = "Maintenance: take 1 capsule by mouth once daily, continuously"
            draft["dosageInstruction"][0]["timing"] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
            draft["dispenseRequest"]["quantity"]["value"] = 28


def cycle_quantity(body: dict[str, Any]) -> None:
    """56 capsules on days 1-21 of 28 with a stated 28-day supply: 70 days of drug."""
    for draft in _drafts(body):
        if draft["id"].endswith("len25"):
            draft["dispenseRequest"]["quantity"]["value"] = 56


def text_results(body: dict[str, Any]) -> None:
    """The two pregnancy tests as a lab feed sends them: "NEG" and "neg.", an interpretation code."""
    first, second = _resources(body, "observations")
    for obs, said in ((first, "NEG"), (second, "neg.")):
        obs.pop("valueCodeableConcept", None)
        obs["valueString"] = said
    second["interpretation"] = [{"coding": [{"system": V3_INTERPRETATION, "code": "NEG", "display": "Negative"}]}]


def unreadable_result(body: dict[str, Any]) -> None:
    """The confirming test came back "Equivocal": it cannot be read as negative."""
    _, second = _resources(body, "observations")
    second.pop("valueCodeableConcept", None)
    second["valueString"] = "Equivocal - see comment"


def two_orders(body: dict[str, Any]) -> None:
    """A 10 mg and a 5 mg capsule ordered together: 15 mg a day, above del(5q) MDS's 10 mg."""
    (first,) = [d for d in _drafts(body) if d["id"].endswith("-len")]
    second = copy.deepcopy(first)
    second["id"] = first["id"] + "5"
    second["medicationCodeableConcept"] = {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "602912",
                "display": "lenalidomide 5 MG Oral Capsule",
            }
        ],
        "text": "lenalidomide 5 mg capsule",
    }
    body["context"]["draftOrders"]["entry"].append({"resource": second})


def wrong_category(body: dict[str, Any]) -> None:
    """The prescription says "adult-male" for a woman."""
    for draft in _drafts(body):
        draft.setdefault("extension", []).append({"url": RISK_CATEGORY, "valueCode": "adult-male"})


def unknown_sex(body: dict[str, Any]) -> None:
    body["prefetch"]["patient"]["gender"] = "unknown"


BUILDS: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    ("60-mm-remission-maintenance-oid.json", "01-mm-likely-approved.json", remission),
    ("61-rems-cycle-quantity-over-stated-supply.json", "01-mm-likely-approved.json", cycle_quantity),
    ("62-rems-lab-feed-text-results.json", "23-rems-initial-valid-pair.json", text_results),
    ("63-rems-unreadable-pregnancy-result.json", "23-rems-initial-valid-pair.json", unreadable_result),
    ("64-mds-del5q-two-orders-summed.json", "40-mds-del5q-needs-documentation.json", two_orders),
    ("65-rems-risk-category-contradicts-sex.json", "23-rems-initial-valid-pair.json", wrong_category),
    ("66-rems-sex-recorded-unknown.json", "01-mm-likely-approved.json", unknown_sex),
]


def main() -> None:
    for name, template, change in BUILDS:
        body = _renumbered(template, name[:2])
        change(body)
        (SAMPLES / name).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
