"""``/healthz`` tells the truth: 503 with a reason while the audit trail cannot be written, 200 again
once it can (CONTRACT.md, Endpoints). The database fails for real: its folder is moved away."""

from __future__ import annotations

import pytest

from cds_service.storage import store as store_module

FEEDBACK = "/cds-services/lenalidomide-order-sign/feedback"
ENTRY = {
    "card": "8b2f5d9e-4c1a-4e7b-9f0d-2a6c3e1b7d40",
    "outcome": "accepted",
    "outcomeTimestamp": "2026-11-23T10:05:31Z",
}


@pytest.fixture
def database(make_app, tmp_path):
    folder = tmp_path / "db"
    app = make_app(CDS_FEEDBACK_DB=str(folder / "feedback.sqlite3"))
    return app, folder, tmp_path / "db-away"


def _unavailable(response) -> str:
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert "Error" not in body["reason"] and "sqlite" not in body["reason"].lower()
    return body["reason"]


def test_a_database_that_breaks_while_idle_is_seen_and_its_recovery_too(database, monkeypatch):
    app, folder, away = database
    monkeypatch.setattr(store_module, "PROBE_SECONDS", 0.0)  # probe on every call, not every 5 s
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    folder.rename(away)
    try:
        assert _unavailable(client.get("/healthz")) == "the audit trail does not accept writes"
    finally:
        away.rename(folder)
    assert client.get("/healthz").status_code == 200


def test_a_failed_write_makes_healthz_503_until_a_write_succeeds(database, monkeypatch):
    app, folder, away = database
    monkeypatch.setattr(store_module, "PROBE_SECONDS", 3600.0)  # no probe after the first: the last write decides
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    folder.rename(away)
    try:
        assert client.post(FEEDBACK, json={"feedback": [ENTRY]}).status_code == 503
        _unavailable(client.get("/healthz"))
    finally:
        away.rename(folder)
    _unavailable(client.get("/healthz"))  # not yet shown to work again
    assert client.post(FEEDBACK, json={"feedback": [ENTRY]}).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_healthz_probes_with_a_real_write(app):
    app.test_client().get("/healthz")
    with app.extensions["cds_store"].engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM health_probe").scalar_one() == 1
