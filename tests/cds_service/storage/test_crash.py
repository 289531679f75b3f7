"""A worker killed mid-write leaves no half-written row; what was acknowledged survives.

A child process opens the store, commits one feedback request and one audit row (both
acknowledged: the calls returned), then starts a second feedback request of two entries and
an audit row in one process, and is SIGKILLed after its INSERTs ran but before the COMMIT.
The parent reopens the store: the acknowledged rows are there, nothing of the killed
transaction is.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from cds_service.storage import Store

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from sqlalchemy import event
    from cds_service.storage import HookCall, Store

    store = Store.open(json.loads(sys.argv[1]))
    entry = {"card": "acked", "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:00:00Z"}
    store.add("svc", [entry])
    store.record_hook_call(HookCall("svc", "acked-call", 200, 1.0))
    print("acknowledged", flush=True)

    @event.listens_for(store.engine, "after_cursor_execute")
    def _hang(_conn, _cursor, statement, *_rest):
        if statement.lstrip().upper().startswith("INSERT"):
            print("inserted, not committed", flush=True)
            time.sleep(120)

    target = sys.argv[2]
    if target == "feedback":
        store.add("svc", [dict(entry, card="lost-1"), dict(entry, card="lost-2")])
    else:
        store.record_hook_call(HookCall("svc", "lost-call", 200, 1.0))
    print("committed (must not happen)", flush=True)
    """
)


def _kill_mid_transaction(settings: dict, target: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(settings), target],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout.readline().strip() == "acknowledged"
        assert child.stdout.readline().strip() == "inserted, not committed"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()


def test_killed_during_a_feedback_write(settings):
    _kill_mid_transaction(settings, "feedback")
    store = Store.open(settings)
    assert [row["card"] for row in store.for_card("acked")] == ["acked"]
    assert store.for_card("lost-1") == [] and store.for_card("lost-2") == []
    assert store.count() == 1
    assert [call.hook_instance for call in store.hook_calls()] == ["acked-call"]
    store.add("svc", [{"card": "after", "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:01:00Z"}])
    assert store.count() == 2  # the store is writable again: no lock left behind
    store.close()


def test_killed_during_an_audit_write(settings):
    _kill_mid_transaction(settings, "audit")
    store = Store.open(settings)
    assert [call.hook_instance for call in store.hook_calls()] == ["acked-call"]
    assert store.count() == 1
    store.record_hook_call(store.hook_calls()[0])
    assert store.hook_call_count() == 2
    store.close()
