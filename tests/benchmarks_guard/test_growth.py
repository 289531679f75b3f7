"""The work of one hook call grows no faster than the patient's record (not timed).

Work is counted, not clocked: the request is parsed with every JSON object as a
``CountingDict`` that counts each field read (``get``, ``[]``, ``in``, iteration), and the
whole request path after parsing runs on it (the nesting-depth check, the engine: prefetch,
mappers, rules, cards). Ten times the resources must cost at most about ten times the reads,
and each added resource must cost about the same as the ones before it: a quadratic step
(every Observation compared with every other, a list scanned once per resource) fails here.
See docs/performance.md for the timed benchmark (``benchmarks/run.py``), which CI does not run.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from cds_service.hooks import engine
from cds_service.hooks.engine import evaluate
from cds_service.web.request_body import depth_exceeds
from fhir_mappers.case import build_cases
from tests.conftest import FIXTURES, SAMPLES, load_json

R4 = FIXTURES / "hl7-r4-examples"
# A male multiple-myeloma patient (PA criteria, CBC monitoring) and a female patient of
# reproductive potential (REMS pregnancy tests read from the Observations).
BASES = ["01-mm-likely-approved.json", "23-rems-initial-valid-pair.json"]


class CountingDict(dict):
    """A dict that counts the reads made on it (all instances share one counter)."""

    reads = 0

    def __getitem__(self, key: Any) -> Any:
        CountingDict.reads += 1
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        CountingDict.reads += 1
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        CountingDict.reads += 1
        return super().__contains__(key)

    def __iter__(self):
        CountingDict.reads += 1
        return super().__iter__()

    def items(self):
        CountingDict.reads += 1
        return super().items()

    def values(self):
        CountingDict.reads += 1
        return super().values()

    def keys(self):
        CountingDict.reads += 1
        return super().keys()


def _grown(base: str, factor: int) -> dict[str, Any]:
    """The sample request with ``factor`` x (30 Conditions, 100 Observations, 20 MedicationRequests):
    copies of its own resources and of the FHIR R4 examples, new ids, dates going back."""
    body = load_json(SAMPLES / base)
    prefetch = body["prefetch"]
    patient = {"reference": f"Patient/{prefetch['patient']['id']}"}

    def entries(key: str) -> list[dict[str, Any]]:
        value = prefetch.get(key)
        return [e["resource"] for e in (value or {}).get("entry") or []]

    def grow(pool: list[dict[str, Any]], count: int, prefix: str, stamp: Callable[[dict, int], None]) -> list[dict]:
        out = []
        for i in range(count):
            resource = copy.deepcopy(pool[i % len(pool)])
            resource["id"] = f"{prefix}-{i}"
            resource["subject"] = patient
            stamp(resource, i)
            out.append(resource)
        return out

    def day(i: int) -> str:
        return (date(2026, 11, 17) - timedelta(days=7 * (i // 5 + 1))).isoformat()

    def obs_stamp(resource: dict, i: int) -> None:
        resource["effectiveDateTime"] = f"{day(i)}T08:00:00Z"
        resource.pop("effectivePeriod", None)

    observations = entries("observations")
    observations += grow([*observations, load_json(R4 / "Observation-f001.json")], 100 * factor, "g-obs", obs_stamp)
    conditions = entries("conditions")
    conditions += grow(
        [load_json(R4 / f"Condition-{n}.json") for n in ("example", "f201", "f202")],
        30 * factor - len(conditions),
        "g-cond",
        lambda r, i: r.update(recordedDate=day(i)),
    )
    medications = entries("medications")
    medications += grow(
        [load_json(p) for p in sorted(R4.glob("MedicationRequest-*.json"))],
        20 * factor - len(medications),
        "g-mr",
        lambda r, i: r.update(authoredOn=day(i)),
    )
    medications += [load_json(R4 / "Medication-med0316.json"), load_json(R4 / "Medication-med0301.json")]
    for key, resources in (("observations", observations), ("conditions", conditions), ("medications", medications)):
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    return body


def _work(app, body: dict[str, Any]) -> tuple[int, list[str]]:
    """(field reads made by one request, its finding codes)."""
    counted = json.loads(json.dumps(body), object_hook=CountingDict)
    settings = app.extensions["cds_settings"]
    CountingDict.reads = 0
    assert not depth_exceeds(counted, 64)
    outcome = evaluate(counted, settings)
    return CountingDict.reads, outcome.findings


def grows_linearly(points: list[tuple[int, int]], *, tolerance: float = 1.3) -> bool:
    """Whether (size, work) points grow at most linearly: no segment costs more per added
    unit than ``tolerance`` times the first segment does."""
    (s0, w0), (s1, w1) = points[0], points[1]
    first = (w1 - w0) / (s1 - s0)
    return all(
        (wb - wa) / (sb - sa) <= tolerance * max(first, 1e-9) for (sa, wa), (sb, wb) in itertools.pairwise(points[1:])
    )


def test_the_linearity_check_rejects_quadratic_growth():
    sizes = [100, 1000, 2000]
    assert grows_linearly([(n, 500 + 40 * n) for n in sizes])
    assert not grows_linearly([(n, 500 + 40 * n + n * n // 50) for n in sizes])


@pytest.mark.parametrize("base", BASES)
def test_work_grows_linearly_with_the_record(app, base):
    points = []
    for factor in (1, 10, 20):
        plain = _grown(base, factor)
        work, found = _work(app, plain)
        # The counting wrapper changes nothing in the answer.
        assert found == evaluate(json.loads(json.dumps(plain)), app.extensions["cds_settings"]).findings
        size = sum(len(plain["prefetch"][k]["entry"]) for k in ("observations", "conditions", "medications"))
        points.append((size, work))
    (size1, work1), (size10, work10), _ = points
    # The record is actually read (each added resource costs reads) ...
    assert work10 - work1 >= size10 - size1
    # ... ten times the record costs at most about ten times the reads ...
    assert work10 <= 10.5 * work1, points
    # ... and the twentieth ten-fold costs no more per resource than the first.
    assert grows_linearly(points), points


@pytest.mark.parametrize("base", BASES)
def test_observations_alone_cost_linearly(app, base):
    """1,000 Observations (the heavy benchmark request) against 100 and 2,000."""
    points = []
    for count in (100, 1000, 2000):
        body = _grown(base, 1)
        observations = body["prefetch"]["observations"]["entry"]
        body["prefetch"]["observations"]["entry"] = [
            copy.deepcopy(observations[i % len(observations)]) for i in range(count)
        ]
        for i, entry in enumerate(body["prefetch"]["observations"]["entry"]):
            entry["resource"]["id"] = f"n-obs-{i}"
        points.append((count, _work(app, body)[0]))
    assert points[1][1] <= 10.5 * points[0][1], points
    assert grows_linearly(points), points


def with_draft_orders(body: dict[str, Any], lenalidomide: int, others: int, readable: int = 0) -> dict[str, Any]:
    """``body`` with ``lenalidomide`` copies of its lenalidomide draft and ``others`` other drafts:
    the first ``readable`` copies of its dexamethasone draft (a drug the rules read), the rest
    copies of the FHIR R4 example MedicationRequests (drugs no rule reads), as an admission set."""
    entries = body["context"]["draftOrders"]["entry"]
    lenalidomide_draft = next(e for e in entries if "len" in e["resource"]["id"])
    dexamethasone_draft = next(e for e in entries if "dex" in e["resource"]["id"])
    pool = [{"resource": load_json(path)} for path in sorted(R4.glob("MedicationRequest-*.json"))]
    drafts = []
    for i in range(lenalidomide):
        drafts.append(copy.deepcopy(lenalidomide_draft))
        drafts[-1]["resource"]["id"] = f"len-{i}"
    for i in range(others):
        drafts.append(copy.deepcopy(dexamethasone_draft if i < readable else pool[i % len(pool)]))
        drafts[-1]["resource"]["id"] = f"other-{i}"
        drafts[-1]["resource"]["status"] = "draft"
    body["context"]["draftOrders"]["entry"] = drafts
    return body


def _draft_work(app, monkeypatch, body: dict[str, Any]) -> tuple[int, int]:
    """(field reads, medications handed to the orders' rules: each order's list, summed)."""
    handed: list[int] = []

    def counting_build_cases(**kwargs: Any):
        cases = build_cases(**kwargs)
        handed.append(sum(len(case.medications) for case in cases))
        return cases

    monkeypatch.setattr(engine, "build_cases", counting_build_cases)
    reads, _ = _work(app, body)
    return reads, sum(handed)


def test_drafts_no_rule_reads_are_not_rescanned_for_every_order(app, monkeypatch):
    """480 drafts of drugs no rule reads (an admission order set) beside 20 lenalidomide orders:
    read once, never handed to each order's rules."""
    bare = _draft_work(app, monkeypatch, with_draft_orders(_grown(BASES[0], 1), 20, 0))
    admission = _draft_work(app, monkeypatch, with_draft_orders(_grown(BASES[0], 1), 20, 480))
    assert admission[1] == bare[1], (bare, admission)


@pytest.mark.parametrize(("lenalidomide", "readable"), [(20, 0), (20, 100), (1, 0)])
def test_work_grows_linearly_with_the_draft_orders(app, monkeypatch, lenalidomide, readable):
    points = []
    for others in (100, 250, 480):
        body = with_draft_orders(_grown(BASES[0], 1), lenalidomide, others, readable=min(readable, others))
        reads, handed = _draft_work(app, monkeypatch, body)
        points.append((others, reads + handed))
    assert grows_linearly(points), points


def test_work_grows_linearly_with_the_lenalidomide_orders_up_to_their_limit(app, monkeypatch):
    points = []
    for lenalidomide in (5, 10, 20):
        reads, handed = _draft_work(app, monkeypatch, with_draft_orders(_grown(BASES[0], 1), lenalidomide, 480))
        points.append((lenalidomide, reads + handed))
    assert grows_linearly(points), points
