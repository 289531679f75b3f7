"""Feedback is validated within the contract's limits, stored, and survives a restart."""

from __future__ import annotations

import json

import pytest

FEEDBACK = "/cds-services/lenalidomide-order-sign/feedback"
CARD_1 = "8b2f5d9e-4c1a-4e7b-9f0d-2a6c3e1b7d40"
CARD_2 = "0e9d3c4b-7a61-4f2e-8b5d-6c1a9e3f2d17"
CARD_3 = "5a7c1e2f-3b4d-4c6e-9a8b-1d2e3f4a5b6c"


def _entry(card: str = CARD_1, **extra) -> dict:
    entry = {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "s-1"}],
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    entry.update(extra)
    return entry


def test_feedback_is_stored_and_survives_restart(make_app, tmp_path):
    app = make_app()
    response = app.test_client().post(FEEDBACK, json={"feedback": [_entry()]})
    assert response.status_code == 200
    restarted = make_app()
    stored = restarted.extensions["cds_feedback_store"].for_card(CARD_1)
    assert stored == [
        {
            "service_id": "lenalidomide-order-sign",
            "card": CARD_1,
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-23T10:05:31Z",
            "acceptedSuggestions": [{"id": "s-1"}],
            "overrideReason": None,
            "client_iss": None,
        }
    ]


def test_override_as_the_sandbox_sends_it(client, app):
    entry = {
        "card": CARD_2,
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": "generic-shortage", "system": "urn:lenalidomide-cds:override-reason"}},
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    response = client.post(FEEDBACK, json={"feedback": [entry, _entry(CARD_3)]})
    assert response.status_code == 200
    assert response.get_json() == {"stored": 2}
    stored = app.extensions["cds_feedback_store"].for_card(CARD_2)[0]
    assert stored["overrideReason"]["reason"]["code"] == "generic-shortage"


def test_bad_feedback_is_400(client, app):
    response = client.post(FEEDBACK, json={"feedback": [{"card": CARD_1, "outcome": "maybe"}]})
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert "feedback.0.outcome" in issue["expression"]
    assert "feedback.0.outcomeTimestamp" in issue["expression"]
    assert app.extensions["cds_feedback_store"].count() == 0


def test_feedback_for_unknown_service_is_404(client):
    response = client.post("/cds-services/nope/feedback", json={"feedback": [_entry()]})
    assert response.status_code == 404


def _refused(client, body, field: str) -> None:
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert field in outcome["issue"][0]["expression"]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (_entry("card-1"), "feedback.0.card"),
        (_entry(outcomeTimestamp="yesterday"), "feedback.0.outcomeTimestamp"),
        (_entry(outcomeTimestamp="2026-11-23"), "feedback.0.outcomeTimestamp"),
        (_entry(outcomeTimestamp="2026-11-23T10:05:31"), "feedback.0.outcomeTimestamp"),
        (_entry(outcomeTimestamp="2026-02-31T10:05:31Z"), "feedback.0.outcomeTimestamp"),
        (
            _entry(outcome="overridden", overrideReason={"userComment": "x" * 2001}),
            "feedback.0.overrideReason.userComment",
        ),
        (_entry(outcome="overridden", overrideReason={"reason": {"code": 5}}), "feedback.0.overrideReason.reason.code"),
        (_entry(acceptedSuggestions=[{"id": "s" * 256}]), "feedback.0.acceptedSuggestions.0.id"),
    ],
)
def test_malformed_entry_is_400_naming_the_field(client, app, entry, field):
    _refused(client, {"feedback": [entry]}, field)
    assert app.extensions["cds_feedback_store"].count() == 0


def test_more_than_100_entries_is_400(client, app):
    _refused(client, {"feedback": [_entry() for _ in range(101)]}, "feedback")
    assert client.post(FEEDBACK, json={"feedback": [_entry() for _ in range(100)]}).status_code == 200


def test_limits_accept_what_they_should(client, app):
    entries = [
        _entry(outcomeTimestamp="2026-11-23T10:05:31.123456789+01:00"),
        _entry(CARD_2.upper(), outcome="overridden", overrideReason={"userComment": "y" * 2000}),
    ]
    response = client.post(FEEDBACK, json={"feedback": entries})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert app.extensions["cds_feedback_store"].count() == 2


def test_body_over_64_kb_is_413(client, app):
    comment = "z" * 1900
    body = json.dumps(
        {"feedback": [_entry(outcome="overridden", overrideReason={"userComment": comment}) for _ in range(40)]}
    ).encode()
    assert len(body) > 64 * 1024
    response = client.post(FEEDBACK, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert app.extensions["cds_feedback_store"].count() == 0


def test_unknown_fields_are_not_stored(client, app):
    entry = _entry(
        outcome="overridden",
        overrideReason={"reason": {"code": "c", "system": "urn:x", "patient": "Patient/123"}, "extra": "no"},
        ssn="123-45-6789",
    )
    response = client.post(FEEDBACK, json={"feedback": [entry], "note": "dropped"})
    assert response.status_code == 200
    (stored,) = app.extensions["cds_feedback_store"].for_card(CARD_1)
    assert stored["overrideReason"] == {"reason": {"code": "c", "system": "urn:x"}}
    assert "123-45-6789" not in json.dumps(stored)


def test_feedback_is_503_when_the_database_cannot_be_written(make_app, tmp_path):
    folder = tmp_path / "db"
    app = make_app(CDS_FEEDBACK_DB=str(folder / "feedback.sqlite3"))
    client = app.test_client()
    away = tmp_path / "db-away"
    folder.rename(away)  # the database's folder is gone: SQLite cannot open the file
    try:
        response = client.post(FEEDBACK, json={"feedback": [_entry()]})
    finally:
        away.rename(folder)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "sqlite" not in outcome["issue"][0]["diagnostics"].lower()
    assert app.extensions["cds_feedback_store"].count() == 0
    assert client.post(FEEDBACK, json={"feedback": [_entry()]}).status_code == 200
