"""A request id in every log line of a call: taken from X-Request-ID when safe, else made; echoed in
the answer; a valid W3C traceparent is logged beside it, an invalid one ignored."""

from __future__ import annotations

import json
import logging
import re

import pytest
import responses

from cds_service.web.logging_setup import JsonFormatter
from cds_service.web.request_id import MAX_LENGTH, accepted_request_id, valid_traceparent
from tests.conftest import SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
# The example of https://www.w3.org/TR/trace-context/#examples-of-http-traceparent-headers
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.parametrize("value", ["abc-123", "f3b1c2d4-0000-4000-8000-000000000001", "a" * MAX_LENGTH, "x:y/z=+@~."])
def test_a_safe_request_id_is_kept(value):
    assert accepted_request_id(value) == value


@pytest.mark.parametrize(
    "value",
    [None, "", "a" * (MAX_LENGTH + 1), "two words", "line\nbreak", 'quote"', "<script>", "é", "semi;colon"],
)
def test_an_unsafe_or_missing_request_id_is_replaced(value):
    assert UUID.match(accepted_request_id(value))


@pytest.mark.parametrize(
    "value",
    [
        TRACEPARENT,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        # A later version may add fields after a dash (W3C trace context, "versioning of traceparent").
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
    ],
)
def test_a_valid_traceparent_is_accepted(value):
    assert valid_traceparent(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "garbage",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff is invalid
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 has no more fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
    ],
)
def test_an_invalid_traceparent_is_ignored(value):
    assert valid_traceparent(value) is None


def test_the_answer_echoes_the_callers_request_id(client):
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    response = client.post(SIGN, json=body, headers={"X-Request-ID": "ehr-req-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "ehr-req-42"


def test_a_request_id_is_made_when_none_is_sent_even_for_errors(client):
    for response in (client.get("/cds-services"), client.post(SIGN, data="{", content_type="application/json")):
        assert UUID.match(response.headers["X-Request-ID"])
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert UUID.match(made)


def test_every_line_of_a_call_carries_its_request_id_and_trace(make_app, caplog):
    """Including the lines logged by the FHIR reads, which run on other threads; and no token."""
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    client = make_app(CDS_FHIR_SERVERS=body["fhirServer"]).test_client()
    caplog.clear()  # the lines of the app's start are outside any call
    token = body["fhirAuthorization"]["access_token"]
    with caplog.at_level(logging.DEBUG), responses.RequestsMock(assert_all_requests_are_fired=False) as fhir:
        fhir.add(responses.GET, re.compile(r"https://ehr\.example\.org/fhir/.*"), status=500)
        response = client.post(SIGN, json=body, headers={"X-Request-ID": "call-7", "traceparent": TRACEPARENT})
    assert response.status_code == 412
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    assert {line.get("event") for line in lines} >= {"fhir_read_failed", "hook"}
    for line in lines:
        assert line["request_id"] == "call-7" and line["traceparent"] == TRACEPARENT, line
    assert token not in json.dumps(lines)


def test_lines_outside_a_call_carry_no_request_id(client, caplog):
    client.get("/healthz", headers={"X-Request-ID": "done-1"})
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "after the call", None, None)
    assert "request_id" not in json.loads(JsonFormatter().format(record))
