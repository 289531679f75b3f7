"""Feedback is validated, stored, and survives a restart."""

from __future__ import annotations

FEEDBACK = "/cds-services/lenalidomide-order-sign/feedback"


def _entry(card: str = "card-1", **extra) -> dict:
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
    stored = restarted.extensions["cds_feedback_store"].for_card("card-1")
    assert stored == [
        {
            "service_id": "lenalidomide-order-sign",
            "card": "card-1",
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-23T10:05:31Z",
            "acceptedSuggestions": [{"id": "s-1"}],
            "overrideReason": None,
        }
    ]


def test_override_as_the_sandbox_sends_it(client, app):
    entry = {
        "card": "card-2",
        "outcome": "overridden",
        "overrideReason": {"reason": {"code": "generic-shortage", "system": "urn:lenalidomide-cds:override-reason"}},
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    response = client.post(FEEDBACK, json={"feedback": [entry, _entry("card-3")]})
    assert response.status_code == 200
    assert response.get_json() == {"stored": 2}
    stored = app.extensions["cds_feedback_store"].for_card("card-2")[0]
    assert stored["overrideReason"]["reason"]["code"] == "generic-shortage"


def test_bad_feedback_is_400(client, app):
    response = client.post(FEEDBACK, json={"feedback": [{"card": "x", "outcome": "maybe"}]})
    assert response.status_code == 400
    issue = response.get_json()["issue"][0]
    assert "feedback.0.outcome" in issue["expression"]
    assert "feedback.0.outcomeTimestamp" in issue["expression"]
    assert app.extensions["cds_feedback_store"].count() == 0


def test_feedback_for_unknown_service_is_404(client):
    response = client.post("/cds-services/nope/feedback", json={"feedback": [_entry()]})
    assert response.status_code == 404
