"""No JSON input makes a mapper raise: junk values and randomly mutated real fixtures."""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from fhir_mappers.case import build_cases, lenalidomide_draft_refs
from fhir_mappers.condition import map_condition
from fhir_mappers.coverage import map_coverage
from fhir_mappers.medication_request import is_lenalidomide, map_lenalidomide_order, map_medication_on_record
from fhir_mappers.patient import age_on, map_patient
from fhir_mappers.practitioner import map_prescriber
from fhir_mappers.resources import ResourceIndex, iter_resources
from tests.conftest import fixture_files, shared_files
from tests.fhir_mappers.helpers import FIXTURES, load

NOW = datetime(2026, 11, 23, tzinfo=UTC)

JUNK: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**400,
    float("nan"),
    float("inf"),
    "",
    " ",
    "x",
    "2026-13-45",
    "2026-11-22T25:61:00+99:99",
    "#",
    "#missing",
    "Medication/",
    "Medication/x/_history",
    "a" * 5000,
    "days 1-" + "1" * 3000,
    [],
    [None, 1, "x"],
    {},
    {"value": "x", "code": 5},
    {"coding": "x"},
    {"coding": [{"system": 1, "code": {"x": 1}}]},
    {"reference": 5},
    {"resourceType": "Bundle", "entry": 5},
    {"resourceType": "Bundle", "entry": [{"resource": "x"}, {"fullUrl": 3, "resource": {"resourceType": 4}}]},
    {"resourceType": "OperationOutcome"},
    {"resourceType": "MedicationRequest", "id": {"x": 1}},
    {"numerator": {"value": 1, "code": "mg"}, "denominator": {"value": 0}},
    {"repeat": {"frequency": 0, "period": 0, "periodUnit": "d"}},
    {"repeat": {"frequency": 1e308, "period": 1e-308, "periodUnit": "s"}},
]


def _run_mappers(resource: Any) -> None:
    index = ResourceIndex([resource])
    is_lenalidomide(resource, index.get)
    map_lenalidomide_order(resource, index.get)
    map_medication_on_record(resource, index.get, True)
    map_patient(resource)
    map_condition(resource)
    map_coverage([resource], {"x": "marketplace"}, on=date(2026, 1, 1))
    map_prescriber([resource], None)
    list(iter_resources(resource))
    age_on(resource if isinstance(resource, str) else None, date(2026, 1, 1))


@pytest.mark.parametrize("value", JUNK, ids=range(len(JUNK)))
def test_junk_top_level_values(value):
    _run_mappers(value)
    for kind in (
        "MedicationRequest",
        "MedicationOrder",
        "Patient",
        "Condition",
        "Coverage",
        "PractitionerRole",
        "Practitioner",
    ):
        _run_mappers({"resourceType": kind, "id": "x", "medicationReference": value, "code": value})
    lenalidomide_draft_refs(value, value)
    build_cases(draft_orders=value, selections=value, prefetch=value, unavailable=value, now=value)


def _mutate(node: Any, rng: random.Random) -> Any:
    """A copy of ``node`` with some of its values replaced by junk."""
    if rng.random() < 0.08:
        return rng.choice(JUNK)
    if isinstance(node, dict):
        return {k: _mutate(v, rng) for k, v in node.items()}
    if isinstance(node, list):
        return [_mutate(v, rng) for v in node]
    return node


# Every real request and resource: the project's own fixtures and, when ../shared is beside the
# project, the vendor examples that state no license (one skipped case with the reason otherwise).
# The licensed vendor-examples folders (US Core, Da Vinci CRD) are copied into the project: not twice.
FIXTURE_FILES = [path for path in fixture_files(FIXTURES, "*/*.json") if "jwks" not in path.name] + [
    path
    for path in shared_files("fixtures", "vendor-examples", pattern="*/*.json")
    if not isinstance(path, Path) or not (FIXTURES / path.parent.name).is_dir()
]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}" if isinstance(p, Path) else p)
def test_mutated_fixtures(path):
    name, value = path.name, load(path)
    rng = random.Random(name)
    for _ in range(60):
        mutated = _mutate(copy.deepcopy(value), rng)
        request = mutated.get("request", mutated) if isinstance(mutated, dict) else mutated
        context = request.get("context") if isinstance(request, dict) else None
        if isinstance(context, dict):
            drafts = context.get("draftOrders")
            prefetch = request.get("prefetch") if isinstance(request, dict) else None
            build_cases(
                draft_orders=drafts,
                selections=context.get("selections"),
                prefetch=prefetch,
                unavailable=set(),
                now=NOW,
            )
            build_cases(draft_orders=drafts, selections=None, prefetch=prefetch, unavailable=set(), now=NOW)
            for resource in iter_resources(drafts):
                _run_mappers(resource)
        for resource in iter_resources(mutated):
            _run_mappers(resource)
        _run_mappers(mutated)
