"""The audit rows' group commit on SQLite: every caller's row is committed before it returns,
concurrent callers share transactions, and a failed commit reaches every caller in it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cds_service.storage import HookCall, Store


@pytest.fixture
def store(tmp_path):
    opened = Store.open({"CDS_FEEDBACK_DB": str(tmp_path / "audit.sqlite3")})
    yield opened
    opened.close()


def test_concurrent_calls_are_all_committed_in_fewer_transactions(store):
    commits = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    first_insert = threading.Event()
    release = threading.Event()

    def hold_first(*_args):
        if not first_insert.is_set():
            first_insert.set()
            release.wait(10)  # the first transaction stays open while the others queue

    event.listen(store.engine, "after_cursor_execute", hold_first)
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            store.record_hook_call(HookCall("svc", f"call-{i}", 200, 1.0))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    threads[0].start()
    assert first_insert.wait(10)
    for thread in threads[1:]:
        thread.start()
    for _ in range(1000):  # every other caller is waiting for the next batch (at most 10 s)
        if len(store._pending) == 7:
            break
        threading.Event().wait(0.01)
    assert len(store._pending) == 7
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert sorted(c.hook_instance for c in store.hook_calls()) == sorted(f"call-{i}" for i in range(8))
    assert len(commits) == 2  # the first row alone, then the seven that waited, together


def test_a_failed_commit_raises_in_the_caller_and_the_next_call_commits(store, monkeypatch):
    def broken():
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(store, "_writing", broken)
    with pytest.raises(SQLAlchemyError):
        store.record_hook_call(HookCall("svc", "lost", 200, 1.0))
    monkeypatch.undo()
    store.record_hook_call(HookCall("svc", "kept", 200, 1.0))
    assert [c.hook_instance for c in store.hook_calls()] == ["kept"]
