"""Observations the policy judges: hemoglobin, serum EPO, platelets (LOINC, unit factors)
and the SF3B1 variant (HL7 Genomics Reporting pattern)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappers.observation import map_observation, map_observations

LOINC = "http://loinc.org"


def lab(code: str, value: Any, unit: str | None, status: str = "final") -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity.update(system="http://unitsofmeasure.org", code=unit)
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": "2026-11-01T08:00:00Z",
        "valueQuantity": quantity,
    }


@pytest.mark.parametrize(
    ("code", "value", "unit", "kind", "expected"),
    [
        ("718-7", 8.5, "g/dL", "hemoglobin", 8.5),
        ("718-7", 85, "g/L", "hemoglobin", 8.5),
        ("59260-0", 5.0, "mmol/L", "hemoglobin", 8.055),
        ("15061-5", 620, "m[IU]/mL", "erythropoietin", 620.0),
        ("15061-5", 120, "U/L", "erythropoietin", 120.0),
        ("777-3", 480, "10*3/uL", "platelets", 480.0),
    ],
)
def test_labs_in_canonical_units(code, value, unit, kind, expected):
    fact = map_observation(lab(code, value, unit))
    assert fact is not None and fact.kind == kind and fact.value == pytest.approx(expected)
    assert str(fact.effective) == "2026-11-01"


def test_unknown_unit_or_preliminary_result_has_no_value():
    assert map_observation(lab("718-7", 8.5, "furlongs")).value is None
    assert map_observation(lab("718-7", 8.5, "g/dL", status="preliminary")).value is None
    assert map_observation(lab("718-7", "abc", "g/dL")).value is None


def test_other_observations_and_garbage_are_ignored():
    assert map_observation(lab("2160-0", 1.0, "mg/dL")) is None  # creatinine: not judged here
    assert map_observation({"resourceType": "Observation"}) is None
    assert map_observation("nonsense") is None
    assert map_observation(lab("718-7", 8.5, "g/dL", status="entered-in-error")) is None
    assert map_observations([lab("718-7", 8.5, "g/dL"), 3, None]) != ()


def sf3b1(present: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "v1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "69548-6"}]},
        "component": [
            {
                "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                "valueCodeableConcept": {
                    "coding": [{"system": "http://www.genenames.org/geneId", "code": "HGNC:10768"}]
                },
            }
        ],
    }
    if present:
        resource["valueCodeableConcept"] = {"coding": [{"system": LOINC, "code": "LA9633-4"}]}
    return resource


def test_sf3b1_variant_present_and_not_stated():
    assert map_observation(sf3b1(True)).present is True
    assert map_observation(sf3b1(False)).present is None
