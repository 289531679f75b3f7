"""The store on each backend: migrations, audit rows, feedback, one transaction per write."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from cds_service.storage import HookCall, Store, current_revision, database_url, head_revision, migrate
from cds_service.storage import store as store_module
from cds_service.storage.schema import metadata

from .conftest import PG_URL


def _call(**overrides) -> HookCall:
    fields = {
        "service_id": "lenalidomide-order-sign",
        "hook_instance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "http_status": 200,
        "duration_ms": 12.34,
        "client_iss": "https://ehr.example/fhir",
        "finding_codes": ["pa-assessment", "rems"],
        "likelihoods": ["likely-approved"],
        "coverage_assertion_ids": ["5b0e5a8e-0c2f-5d7c-9f0e-1f3a5c7e9b11"],
        "order_count": 1,
    }
    fields.update(overrides)
    return HookCall(**fields)


def _entry(card: str = "card-1", **extra) -> dict:
    return {"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:05:31Z"} | extra


def test_open_migrates_to_head_and_reopening_changes_nothing(settings):
    store = Store.open(settings)
    head = head_revision()
    assert head is not None
    assert current_revision(store.engine) == head
    store.add("svc", [_entry()])
    assert migrate(store.engine) == head  # idempotent: a second start is a no-op
    reopened = Store.open(settings)
    assert reopened.count() == 1
    assert set(inspect(reopened.engine).get_table_names()) >= {"hook_calls", "feedback", "alembic_version"}
    store.close()
    reopened.close()


def test_the_migrations_build_exactly_the_tables_the_code_uses(settings):
    store = Store.open(settings)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    store.close()


def test_audit_row_round_trip(settings):
    store = Store.open(settings)
    before = datetime.now(UTC)
    store.record_hook_call(_call())
    store.record_hook_call(_call(http_status=412, client_iss=None, finding_codes=[], likelihoods=[], order_count=0))
    first, second = store.hook_calls()
    assert first.service_id == "lenalidomide-order-sign"
    assert first.hook_instance == "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    assert first.client_iss == "https://ehr.example/fhir"
    assert (first.http_status, first.order_count, first.duration_ms) == (200, 1, 12.3)
    assert first.finding_codes == ["pa-assessment", "rems"]
    assert first.likelihoods == ["likely-approved"]
    assert first.coverage_assertion_ids == ["5b0e5a8e-0c2f-5d7c-9f0e-1f3a5c7e9b11"]
    assert first.received_at.tzinfo is not None
    assert before <= first.received_at <= datetime.now(UTC)
    assert (second.http_status, second.client_iss, second.finding_codes) == (412, None, [])
    assert [c.http_status for c in store.hook_calls("d1577c69-dfbe-44ad-ba6d-3e05e953b2ea")] == [200, 412]
    assert store.hook_call_count() == 2
    assert store.count() == 0  # feedback is counted apart
    store.close()


def test_an_oversized_hook_instance_is_cut_not_refused(settings):
    store = Store.open(settings)
    store.record_hook_call(_call(hook_instance="x" * 10_000))
    assert store.hook_calls()[0].hook_instance == "x" * 255
    store.close()


def test_feedback_round_trip(settings):
    store = Store.open(settings)
    override = {"reason": {"code": "generic-shortage", "system": "urn:lenalidomide-cds:override-reason"}}
    stored = store.add(
        "svc",
        [_entry(acceptedSuggestions=[{"id": "s-1"}]), _entry("card-2", outcome="overridden", overrideReason=override)],
        "https://ehr.example.org",
    )
    assert stored == 2
    assert store.for_card("card-1") == [
        {
            "service_id": "svc",
            "card": "card-1",
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-23T10:05:31Z",
            "acceptedSuggestions": [{"id": "s-1"}],
            "overrideReason": None,
            "client_iss": "https://ehr.example.org",
        }
    ]
    assert store.for_card("card-2")[0]["overrideReason"] == override
    assert store.for_card("card-none") == []
    assert store.count() == 2
    store.close()


def test_a_feedback_request_is_stored_whole_or_not_at_all(settings):
    store = Store.open(settings)
    with pytest.raises(IntegrityError):
        store.add("svc", [_entry("card-1"), _entry(None)])  # the second row violates NOT NULL
    assert store.count() == 0
    assert store.for_card("card-1") == []
    store.close()


def test_writable_until_the_probe_table_is_gone(settings, monkeypatch):
    monkeypatch.setattr(store_module, "PROBE_SECONDS", 0.0)
    store = Store.open(settings)
    assert store.write_problem() is None
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE health_probe"))
    assert store.write_problem() == "the audit trail does not accept writes"
    store.close()


def test_several_processes_starting_together_migrate_once(settings):
    code = (
        "import json, sys; from cds_service.storage import Store; "
        "s = Store.open(json.loads(sys.argv[1])); print(s.hook_call_count())"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, json.dumps(settings)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=60)[0].strip() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0, 0]
    assert outputs == ["0"] * 4
    store = Store.open(settings)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    store.close()


def test_sqlite_runs_in_wal_with_full_sync(sqlite_settings):
    store = Store.open(sqlite_settings)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def test_a_feedback_table_from_before_alembic_is_adopted_with_its_rows(sqlite_settings):
    """The feedback of the previous release (hand-made table) was acknowledged: keep it."""
    path = sqlite_settings["CDS_FEEDBACK_DB"]
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL,
                service_id TEXT NOT NULL, card_uuid TEXT NOT NULL, outcome TEXT NOT NULL,
                outcome_timestamp TEXT NOT NULL, accepted_suggestions TEXT, override_reason TEXT);
            CREATE INDEX feedback_card ON feedback (card_uuid);
            """
        )
        conn.execute(
            "INSERT INTO feedback (received_at, service_id, card_uuid, outcome, outcome_timestamp,"
            " accepted_suggestions, override_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("2026-11-20T09:00:00+00:00", "svc", "old-card", "accepted", "2026-11-20T08:59:00Z", '[{"id": "s"}]', None),
        )
    conn.close()
    store = Store.open(sqlite_settings)
    assert store.for_card("old-card") == [
        {
            "service_id": "svc",
            "card": "old-card",
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-20T08:59:00Z",
            "acceptedSuggestions": [{"id": "s"}],
            "overrideReason": None,
            "client_iss": None,
        }
    ]
    store.add("svc", [_entry("new-card")])
    assert store.count() == 2
    assert "feedback_pre_alembic" not in inspect(store.engine).get_table_names()
    store.close()


def test_database_url_prefers_the_postgresql_setting_and_uses_psycopg_3(tmp_path):
    sqlite_path = tmp_path / "sub" / "f.sqlite3"
    assert database_url({"CDS_FEEDBACK_DB": str(sqlite_path)}) == f"sqlite:///{sqlite_path}"
    assert sqlite_path.parent.is_dir()
    url = database_url({"CDS_DATABASE_URL": "postgresql://u:p@db.example:5432/cds", "CDS_FEEDBACK_DB": "x"})
    assert url == "postgresql+psycopg://u:p@db.example:5432/cds"


@pytest.mark.skipif(not PG_URL, reason="CDS_TEST_DATABASE_URL is not set (.ci/run sets it)")
def test_the_postgresql_tests_really_reach_postgresql(postgresql_settings):
    store = Store.open(postgresql_settings)
    assert store.engine.dialect.name == "postgresql"
    assert store.engine.dialect.driver == "psycopg"
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    store.close()
