"""The request bodies the benchmark sends, built from data nobody on the project invented.

- ``captured``: the CDS Hooks sandbox's order-sign, exactly as captured
  (``tests/fixtures/sandbox-captured/capture-order-sign-007.json``), except that its
  ``fhirServer`` (the sandbox's own server on 127.0.0.1:8090, not running here) is left out, so
  the keys the sandbox did not prefetch are "unavailable" and no read leaves the service. The
  FHIR reads are measured separately (``fallback``).
- ``typical``: ``sample_bundles/01-mm-likely-approved.json`` with its prefetch grown to about 30
  Conditions, 100 Observations and 20 MedicationRequests (with their ``_include``d Medications).
- ``heavy``: the typical request with 1,000 Observations.
- ``pass-through``: the typical request whose draft order is dexamethasone 4 MG Oral Tablet (RxNorm 197582,
  verified in ``../shared/reference/terminology.md`` 1h) instead of lenalidomide: the order an EHR sends on
  every medication it writes, answered ``{"cards": []}``.
- ``fallback``: the typical request with no prefetch at all and ``fhirServer`` pointing at the
  benchmark's local FHIR server, which serves the typical request's prefetch (``fhir_stub.py``).

The filler resources are copies of the sample bundle's own resources and of the official FHIR R4
examples in ``tests/fixtures/hl7-r4-examples`` (so every code in them comes from those
sources), with new ids, this patient as subject, and dates spread over the past years.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT / "tests" / "fixtures"
SAMPLE = PROJECT / "sample_bundles" / "01-mm-likely-approved.json"
CAPTURE = FIXTURES / "sandbox-captured" / "capture-order-sign-007.json"
R4 = FIXTURES / "hl7-r4-examples"

SERVICE_PATH = "/cds-services/lenalidomide-order-sign"
TYPICAL_COUNTS = {"Condition": 30, "Observation": 100, "MedicationRequest": 20}
HEAVY_OBSERVATIONS = 1000
_LAST_DAY = date(2026, 11, 17)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def captured_request() -> dict[str, Any]:
    body = _load(CAPTURE)["request"]
    body.pop("fhirServer", None)
    return body


def _entries(bundle: Any) -> list[dict[str, Any]]:
    if not isinstance(bundle, dict):
        return []
    return [e["resource"] for e in bundle.get("entry") or [] if isinstance(e, dict) and "resource" in e]


def _searchset(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }


def _as_of(days_back: int) -> str:
    return (_LAST_DAY - timedelta(days=days_back)).isoformat()


def _filler(pool: list[dict[str, Any]], n: int, prefix: str, patient: str) -> dict[str, Any]:
    """The ``n``-th copy drawn from ``pool``: a new id, this patient as subject, no narrative."""
    resource = copy.deepcopy(pool[n % len(pool)])
    resource["id"] = f"{prefix}-{n}"
    resource["subject"] = {"reference": patient}
    resource.pop("text", None)
    return resource


def _conditions(sample: list[dict[str, Any]], patient: str, count: int) -> list[dict[str, Any]]:
    """The sample's own Conditions first, then copies of the FHIR examples' Conditions."""
    pool = [_load(R4 / name) for name in ("Condition-example.json", "Condition-f201.json", "Condition-f202.json")]
    out = [copy.deepcopy(r) for r in sample]
    n = 0
    while len(out) < count:
        resource = _filler(pool, n, "bench-cond", patient)
        resource["recordedDate"] = _as_of(60 + 45 * n)
        out.append(resource)
        n += 1
    return out


def _observations(sample: list[dict[str, Any]], patient: str, count: int) -> list[dict[str, Any]]:
    """The sample's four laboratory results repeated weekly back in time (newest first, as
    ``_sort=-date`` asks), with the FHIR examples' glucose result among them."""
    pool = [*sample, _load(R4 / "Observation-f001.json")]
    out: list[dict[str, Any]] = []
    n = 0
    while len(out) < count:
        resource = _filler(pool, n, "bench-obs", patient)
        week = n // len(pool)
        when = f"{_as_of(7 * week)}T08:40:00-05:00"
        resource["effectiveDateTime"] = when
        resource.pop("effectivePeriod", None)
        resource["issued"] = when
        quantity = resource.get("valueQuantity")
        if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
            quantity["value"] = round(quantity["value"] * (0.9 + 0.02 * (n % 10)), 2)
        out.append(resource)
        n += 1
    return out


def _medications(patient: str, count: int) -> list[dict[str, Any]]:
    """Copies of the FHIR examples' MedicationRequests (completed and active; RxNorm-coded,
    contained and referenced Medications), plus the referenced Medications, as ``_include``
    returns them."""
    names = sorted(p.name for p in R4.glob("MedicationRequest-*.json"))
    pool = [_load(R4 / name) for name in names]
    out: list[dict[str, Any]] = []
    for n in range(count):
        resource = _filler(pool, n, "bench-mr", patient)
        resource["authoredOn"] = _as_of(90 + 30 * n)
        out.append(resource)
    included = [_load(R4 / "Medication-med0301.json"), _load(R4 / "Medication-med0316.json")]
    for medication in included:
        medication.pop("text", None)
    return out + included


def typical_request(observations: int = TYPICAL_COUNTS["Observation"]) -> dict[str, Any]:
    body = _load(SAMPLE)
    prefetch = body["prefetch"]
    patient = f"Patient/{prefetch['patient']['id']}"
    base = body["fhirServer"].rstrip("/")
    prefetch["conditions"] = _searchset(
        _conditions(_entries(prefetch["conditions"]), patient, TYPICAL_COUNTS["Condition"]), base
    )
    prefetch["observations"] = _searchset(
        _observations(_entries(prefetch["observations"]), patient, observations), base
    )
    prefetch["medications"] = _searchset(_medications(patient, TYPICAL_COUNTS["MedicationRequest"]), base)
    return body


def heavy_request() -> dict[str, Any]:
    return typical_request(observations=HEAVY_OBSERVATIONS)


DEXAMETHASONE_4MG = {
    "coding": [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "197582",
            "display": "dexamethasone 4 MG Oral Tablet",
        }
    ],
    "text": "dexamethasone 4 MG Oral Tablet",
}


def passthrough_request() -> dict[str, Any]:
    """The typical record with a dexamethasone draft: nothing for the service to speak about."""
    body = typical_request()
    for entry in body["context"]["draftOrders"]["entry"]:
        order = entry["resource"]
        order.pop("medicationReference", None)
        order["medicationCodeableConcept"] = copy.deepcopy(DEXAMETHASONE_4MG)
        for dosage in order.get("dosageInstruction", []):
            dosage.pop("text", None)
    return body


def fallback_request(fhir_base: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the request without prefetch, the prefetch the FHIR server answers with, by key)."""
    body = typical_request()
    served = body.pop("prefetch")
    body["fhirServer"] = fhir_base
    return body, served


def resource_counts(body: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in (body.get("prefetch") or {}).values():
        is_bundle = isinstance(value, dict) and value.get("resourceType") == "Bundle"
        for resource in _entries(value) if is_bundle else [value]:
            if isinstance(resource, dict):
                kind = resource.get("resourceType", "?")
                counts[kind] = counts.get(kind, 0) + 1
    return counts
