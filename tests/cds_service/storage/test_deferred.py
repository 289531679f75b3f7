"""Audit rows of calls that asserted nothing: queued, written in batches off the request path, kept
through a failed write, flushed at exit; rows of answers with cards are still committed first."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

from sqlalchemy.exc import OperationalError

from cds_service.storage.deferred import DeferredRows
from tests.conftest import ROOT, SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"


def test_a_pass_through_row_is_queued_then_written(make_app, settings):
    app = make_app(**settings)
    store = app.extensions["cds_store"]
    body = load_json(SAMPLES / "09-non-lenalidomide.json")
    response = app.test_client().post(SIGN, json=body)
    assert response.status_code == 200 and response.get_json() == {"cards": []}
    store.deferred.flush()
    [row] = store.hook_calls()
    assert (row.hook_instance, row.http_status, row.finding_codes, row.order_count) == (
        body["hookInstance"],
        200,
        [],
        0,
    )


def test_a_row_with_cards_is_committed_before_the_answer_not_queued(make_app, settings):
    app = make_app(**settings)
    store = app.extensions["cds_store"]
    response = app.test_client().post(SIGN, json=load_json(SAMPLES / "01-mm-likely-approved.json"))
    assert response.status_code == 200 and response.get_json()["cards"]
    assert store.deferred.pending() == 0
    assert len(store.hook_calls()) == 1


def test_the_background_thread_writes_within_its_interval():
    written: list[list[dict]] = []
    rows = DeferredRows(written.append, interval=0.05)
    rows.add({"n": 1})
    rows.add({"n": 2})
    deadline = time.monotonic() + 10
    while not written and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written == [[{"n": 1}, {"n": 2}]]
    assert rows.pending() == 0


def test_a_failed_write_keeps_the_rows_for_the_next_try(caplog):
    attempts: list[list[dict]] = []

    def write(batch: list[dict]) -> None:
        attempts.append(batch)
        if len(attempts) == 1:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    rows = DeferredRows(write, interval=3600)
    rows.add({"n": 1})
    with caplog.at_level(logging.ERROR):
        assert rows.flush() == 0
    assert any(getattr(r, "event", None) == "audit_deferred_failed" for r in caplog.records)
    assert rows.pending() == 1
    assert rows.flush() == 1
    assert attempts[-1] == [{"n": 1}]


def test_the_queue_is_bounded_and_what_it_drops_is_logged(caplog):
    written: list[list[dict]] = []
    rows = DeferredRows(written.append, interval=3600, max_pending=3)
    for n in range(5):
        rows.add({"n": n})
    with caplog.at_level(logging.ERROR):
        rows.flush()
    assert written == [[{"n": 0}, {"n": 1}, {"n": 2}]]
    [dropped] = [r for r in caplog.records if getattr(r, "event", None) == "audit_deferred_dropped"]
    assert dropped.rows == 2


def test_queued_rows_are_written_when_the_process_exits(tmp_path):
    settings = {"CDS_DATABASE_URL": None, "CDS_FEEDBACK_DB": str(tmp_path / "exit.sqlite3")}
    script = (
        "import json, sys\n"
        "from cds_service.storage import HookCall, Store\n"
        "store = Store.open(json.loads(sys.argv[1]))\n"
        "store.deferred._interval = 3600\n"
        "store.defer_hook_call(HookCall('lenalidomide-order-sign', 'queued-at-exit', 200, 1.0, None))\n"
    )
    subprocess.run([sys.executable, "-c", script, json.dumps(settings)], cwd=ROOT, check=True, timeout=60)
    from cds_service.storage import Store

    store = Store.open(settings)
    assert [call.hook_instance for call in store.hook_calls()] == ["queued-at-exit"]
