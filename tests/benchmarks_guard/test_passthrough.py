"""The pass-through call (an order that is not lenalidomide) reads nothing of the patient's record
(counted, not timed).

An EHR calls the service on every medication order it writes, each call carrying the whole
prefetched record; almost none is lenalidomide. Past parsing and the text depth check, the request
path (protocol schemas, the prefetch size check, the engine) must read only what finding the draft
orders needs: ten times the record costs not one field read more. The same count on a lenalidomide
order grows with the record, which shows the counter sees reads of the record when they happen.
"""

from __future__ import annotations

import json
from typing import Any

from cds_service.hooks.endpoint import _check
from cds_service.hooks.engine import evaluate
from cds_service.web.request_body import check_prefetch_size
from tests.benchmarks_guard.test_growth import CountingDict, _grown

# dexamethasone 4 MG Oral Tablet: RxNorm 197582, verified in ../shared/reference/terminology.md (1h).
DEXAMETHASONE = {
    "coding": [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "197582",
            "display": "dexamethasone 4 MG Oral Tablet",
        }
    ],
    "text": "dexamethasone 4 MG Oral Tablet",
}


def _passthrough(factor: int) -> dict[str, Any]:
    body = _grown("01-mm-likely-approved.json", factor)
    for entry in body["context"]["draftOrders"]["entry"]:
        entry["resource"].pop("medicationReference", None)
        entry["resource"]["medicationCodeableConcept"] = DEXAMETHASONE
    return body


def _reads(app, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    counted = json.loads(json.dumps(body), object_hook=CountingDict)
    with app.test_request_context():
        CountingDict.reads = 0
        _check(counted, counted["hook"])
        check_prefetch_size(counted)
        outcome = evaluate(counted, app.extensions["cds_settings"])
    return CountingDict.reads, outcome.response


def _record_size(body: dict[str, Any]) -> int:
    return sum(len(body["prefetch"][key]["entry"]) for key in ("observations", "conditions", "medications"))


def test_the_pass_through_call_reads_nothing_of_the_record(app):
    small, large = _passthrough(1), _passthrough(10)
    assert _record_size(large) >= 9 * _record_size(small)
    reads_small, answer_small = _reads(app, small)
    reads_large, answer_large = _reads(app, large)
    assert answer_small == answer_large == {"cards": []}
    assert reads_large == reads_small, (reads_small, reads_large)


def test_the_counter_sees_the_record_read_for_a_lenalidomide_order(app):
    small, large = _grown("01-mm-likely-approved.json", 1), _grown("01-mm-likely-approved.json", 10)
    reads_small, answer = _reads(app, small)
    reads_large, _ = _reads(app, large)
    assert answer["cards"]
    assert reads_large - reads_small >= _record_size(large) - _record_size(small)
