"""Retention: ``purge`` deletes hook-call, feedback and questionnaire-error rows older than
CDS_AUDIT_RETENTION_DAYS and DTR judgements older than CDS_DTR_CONTEXT_DAYS, and nothing else, on each
backend; the ``lenalidomide-cds purge`` command does it from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cds_service.cli import main
from cds_service.storage import HookCall, Store, retention
from cds_service.storage.schema import dtr_contexts, dtr_questionnaire_errors, feedback

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _call(instance: str, days_ago: float) -> HookCall:
    return HookCall("lenalidomide-order-sign", instance, 200, 5.0, received_at=NOW - timedelta(days=days_ago))


def _feedback(store: Store, card: str, days_ago: float) -> None:
    row = {
        "received_at": NOW - timedelta(days=days_ago),
        "service_id": "lenalidomide-order-sign",
        "card_uuid": card,
        "outcome": "accepted",
        "outcome_timestamp": "2026-01-01T00:00:00Z",
    }
    with store.engine.begin() as conn:
        conn.execute(feedback.insert(), row)


@pytest.fixture
def filled(settings):
    store = Store.open(settings)
    for instance, days_ago in (("old-1", 400), ("old-2", 91), ("edge", 89.9), ("new", 1)):
        store.record_hook_call(_call(instance, days_ago))
    _feedback(store, "card-old", 120)
    _feedback(store, "card-new", 10)
    yield store
    store.close()


# No DTR rows in these stores, and no CDS_DTR_CONTEXT_DAYS in these settings (kept whole).
DTR_KEPT = {("dtr_questionnaire_errors", 0), ("dtr_contexts", 0)}


def _instances(store: Store) -> list[str]:
    return [call.hook_instance for call in store.hook_calls()]


def test_purge_deletes_only_rows_older_than_the_retention(filled):
    results = retention.purge(filled, {"CDS_AUDIT_RETENTION_DAYS": 90}, NOW)
    assert {(r.table, r.rows) for r in results} == {("hook_calls", 2), ("feedback", 1), *DTR_KEPT}
    assert _instances(filled) == ["edge", "new"]
    assert filled.for_card("card-old") == [] and len(filled.for_card("card-new")) == 1
    # A second run finds nothing more to delete.
    assert {r.rows for r in retention.purge(filled, {"CDS_AUDIT_RETENTION_DAYS": 90}, NOW)} == {0}


def test_without_a_retention_setting_everything_is_kept(filled):
    results = retention.purge(filled, {"CDS_AUDIT_RETENTION_DAYS": None}, NOW)
    assert all(r.days is None and r.rows == 0 for r in results)
    assert len(_instances(filled)) == 4 and filled.count() == 2


def test_dry_run_counts_and_deletes_nothing(filled):
    results = retention.purge(filled, {"CDS_AUDIT_RETENTION_DAYS": 30}, NOW, dry_run=True)
    assert {(r.table, r.rows) for r in results} == {("hook_calls", 3), ("feedback", 1), *DTR_KEPT}
    assert len(_instances(filled)) == 4 and filled.count() == 2


def test_deletes_in_batches_until_none_is_left(filled, monkeypatch):
    monkeypatch.setattr(retention, "BATCH_ROWS", 1)
    for index in range(5):
        filled.record_hook_call(_call(f"older-{index}", 200))
    results = retention.purge(filled, {"CDS_AUDIT_RETENTION_DAYS": 30}, NOW)
    assert {(r.table, r.rows) for r in results} == {("hook_calls", 8), ("feedback", 1), *DTR_KEPT}
    assert _instances(filled) == ["new"]


def test_every_retained_table_is_dated_by_one_of_its_own_columns():
    for retained in retention.RETAINED:
        assert retained.dated_by.table is retained.table
        assert len(retained.table.primary_key.columns) == 1


def test_the_purge_command_reads_the_environment(settings, monkeypatch, capsys):
    store = Store.open(settings)
    now = datetime.now(UTC)
    store.record_hook_call(
        HookCall("lenalidomide-order-sign", "ancient", 200, 1.0, received_at=now - timedelta(days=40))
    )
    store.record_hook_call(HookCall("lenalidomide-order-sign", "recent", 200, 1.0, received_at=now))
    for key, value in settings.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("CDS_AUDIT_RETENTION_DAYS", "30")
    assert main(["purge", "--dry-run"]) == 0
    assert "hook_calls: would delete 1 rows" in capsys.readouterr().out
    assert len(store.hook_calls()) == 2
    assert main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "hook_calls: deleted 1 rows" in out and "(CDS_AUDIT_RETENTION_DAYS=30)" in out
    assert [call.hook_instance for call in store.hook_calls()] == ["recent"]
    store.close()


def test_the_purge_command_refuses_a_bad_retention(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CDS_FEEDBACK_DB", str(tmp_path / "x.sqlite3"))
    monkeypatch.setenv("CDS_AUDIT_RETENTION_DAYS", "0")
    assert main(["purge"]) == 2
    assert "CDS_AUDIT_RETENTION_DAYS" in capsys.readouterr().err


def test_dtr_judgements_go_after_their_own_retention_and_questionnaire_errors_with_the_audit(settings):
    """The judgements kept for documentation (dtr_contexts) past CDS_DTR_CONTEXT_DAYS; the logged
    questionnaire errors with the audit trail (CDS_AUDIT_RETENTION_DAYS)."""
    store = Store.open(settings)
    context = {
        "issuer": "https://ehr.example/fhir",
        "questionnaire": "urn:q",
        "coverage_ref": "Coverage/c1",
        "order_ref": "MedicationRequest/m1",
        "indication": "multiple-myeloma",
        "pathway": "initial",
        "likelihood": "needs-documentation",
        "criteria": [],
    }
    error = {"client_id": "dtr-app", "issuer": "https://ehr.example/fhir", "questionnaires": [], "issues": []}
    with store.engine.begin() as conn:
        conn.execute(
            dtr_contexts.insert(),
            [
                context | {"assertion_id": name, "created_at": NOW - timedelta(days=days)}
                for name, days in (("old", 31), ("new", 29))
            ],
        )
        conn.execute(
            dtr_questionnaire_errors.insert(),
            [error | {"received_at": NOW - timedelta(days=days)} for days in (400, 100)],
        )
    results = retention.purge(store, {"CDS_AUDIT_RETENTION_DAYS": 365, "CDS_DTR_CONTEXT_DAYS": 30}, NOW)
    assert {(r.table, r.setting, r.rows) for r in results} >= {
        ("dtr_contexts", "CDS_DTR_CONTEXT_DAYS", 1),
        ("dtr_questionnaire_errors", "CDS_AUDIT_RETENTION_DAYS", 1),
    }
    with store.engine.connect() as conn:
        assert conn.execute(select(dtr_contexts.c.assertion_id)).scalars().all() == ["new"]
        assert conn.execute(select(func.count()).select_from(dtr_questionnaire_errors)).scalar_one() == 1
    store.close()
