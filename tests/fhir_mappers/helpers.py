"""Fixture paths and small builders shared by the fhir_mappers tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES

R4 = FIXTURES / "hl7-r4-examples"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def r4(name: str) -> dict[str, Any]:
    return load(R4 / f"{name}.json")


def capture(name: str) -> dict[str, Any]:
    return load(FIXTURES / "sandbox-captured" / f"{name}.json")["request"]


def rxnorm_concept(code: str, display: str = "") -> dict[str, Any]:
    return {"coding": [{"system": RXNORM, "code": code, "display": display}]}


def dosage(
    value: float,
    unit: str,
    *,
    frequency: float | None = None,
    period: float = 1,
    period_unit: str = "d",
    code: str | None = None,
    text: str | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """An R4 Dosage: ``value unit`` per administration, with a repeat or a timing code."""
    out: dict[str, Any] = {"doseAndRate": [{"doseQuantity": {"value": value, "system": UCUM, "code": unit}}]}
    if frequency is not None:
        out["timing"] = {"repeat": {"frequency": frequency, "period": period, "periodUnit": period_unit}}
    if code is not None:
        out["timing"] = {"code": {"coding": [{"system": GTS, "code": code}]}}
    if text is not None:
        out["text"] = text
    if sequence is not None:
        out["sequence"] = sequence
    return out


def medication_request(
    ident: str = "mr1",
    *,
    concept: dict[str, Any] | None = None,
    dosages: list[dict[str, Any]] | None = None,
    dispense: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "draft",
        "intent": "order",
    }
    if concept is not None:
        out["medicationCodeableConcept"] = concept
    if dosages is not None:
        out["dosageInstruction"] = dosages
    if dispense is not None:
        out["dispenseRequest"] = dispense
    out.update(extra)
    return out


def bundle(*resources: dict[str, Any], kind: str | None = "searchset") -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}
    if kind:
        out["type"] = kind
    return out
