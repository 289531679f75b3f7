"""Client input never yields a 5xx, and the audit trail records the status the client received.

Lone surrogates, numbers that are not finite and over-long hookInstances are 400s naming why;
any 500 that still happens (a bug) is on the trail as 500, with a log line that says where it
failed and nothing about the patient.
"""

from __future__ import annotations

import json
import logging

import pytest

from cds_service.hooks import endpoint
from cds_service.hooks.engine import Outcome
from cds_service.web.logging_setup import JsonFormatter
from tests.conftest import SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"


def sample_text() -> str:
    return (SAMPLES / "01-mm-likely-approved.json").read_text(encoding="utf-8")


DRAFT_NOTE = '"Cycle 1 of lenalidomide + dexamethasone (Rd)."'


def with_draft_note(text: str, note_json: str) -> str:
    """The sample with its lenalidomide draft order's note text replaced by ``note_json``."""
    assert text.count(DRAFT_NOTE) == 1
    return text.replace(DRAFT_NOTE, note_json)


def with_user_id(text: str, user_json: str) -> str:
    body = json.loads(text)
    old = json.dumps(body["context"]["userId"])
    assert text.count(old) >= 1
    return text.replace(f'"userId": {old}', f'"userId": {user_json}', 1)


@pytest.mark.parametrize(
    "raw",
    [
        with_user_id(sample_text(), '"Practitioner/\\ud800"').encode(),
        with_draft_note(sample_text(), '"take with \\udc00 water"').encode(),
        with_draft_note(sample_text(), '"take with water"').encode().replace(b"with", b"with \xed\xa0\x80", 1),
        with_draft_note(sample_text(), '"take with \\ud800 water"').encode("utf-16"),
        with_draft_note(sample_text(), '"\\u00e9"').encode().replace(b'"\\u00e9"', b'"\xed\xb0\x80"'),
    ],
    ids=["userId-escape", "note-escape", "note-raw-bytes", "note-utf16", "note-raw-low"],
)
def test_a_lone_surrogate_anywhere_is_a_400(make_app, raw):
    app = make_app()
    response = app.test_client().post(SIGN, data=raw, content_type="application/json")
    assert response.status_code == 400
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "surrogate" in outcome["issue"][0]["diagnostics"] or "not valid" in outcome["issue"][0]["diagnostics"]
    assert app.extensions["cds_store"].hook_call_count() == 0  # nothing was answered 200


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_a_number_that_is_not_finite_is_a_400(client, number):
    text = sample_text().replace('"value": 21,', f'"value": {number},', 1)
    assert text != sample_text()
    response = client.post(SIGN, data=text, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert b"NaN" not in response.data and b"Infinity" not in response.data


def test_a_hook_instance_over_255_characters_is_a_400_kept_out_of_log_and_trail(make_app, caplog):
    app = make_app()
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    body["hookInstance"] = "h" * 256
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post(SIGN, json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == ["hookInstance"]
    assert not any("h" * 256 in JsonFormatter().format(record) for record in caplog.records)
    assert app.extensions["cds_store"].hook_call_count() == 0


def test_a_hook_instance_of_255_characters_is_answered(make_app):
    app = make_app()
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    body["hookInstance"] = "h" * 255
    assert app.test_client().post(SIGN, json=body).status_code == 200
    [row] = app.extensions["cds_store"].hook_calls()
    assert (row.hook_instance, row.http_status) == ("h" * 255, 200)


def test_an_answer_that_cannot_be_sent_is_recorded_as_the_500_it_is(make_app, monkeypatch, caplog):
    """The path of the old bug: an answer echoing text that cannot be encoded. The row must not say 200,
    and the log line says where it failed without the text that made it fail."""
    secret = "Jane Q. Patient \ud800 1950-01-01"
    answer = Outcome(response={"cards": [{"summary": secret}]})
    monkeypatch.setattr(endpoint, "evaluate", lambda *_args, **_kwargs: answer)
    app = make_app()
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    with caplog.at_level(logging.ERROR):
        response = app.test_client().post(SIGN, json=body)
    assert response.status_code == 500
    assert response.get_json()["resourceType"] == "OperationOutcome"
    [row] = app.extensions["cds_store"].hook_calls()
    assert (row.hook_instance, row.http_status) == (body["hookInstance"], 500)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.levelno >= logging.ERROR]
    [line] = [entry for entry in lines if entry.get("exception")]
    assert line["exception"] == "UnicodeEncodeError"
    assert any(frame.startswith("cds_service/hooks/endpoint.py:") for frame in line["traceback"])
    assert all(" in " in frame and ":" in frame for frame in line["traceback"])
    assert "Jane" not in json.dumps(line) and "1950" not in json.dumps(line)
