"""Log lines are structured and carry nothing that identifies a patient, and no token."""

from __future__ import annotations

import json
import logging
import re

import pytest
import responses

from cds_service.web.logging_setup import JsonFormatter
from tests.conftest import SAMPLES, load_json


def _identifying_values(body: dict) -> set[str]:
    """Names, identifiers, birth dates and addresses of the patient, and the access token."""
    values: set[str] = set()
    patient = (body.get("prefetch") or {}).get("patient") or {}
    for name in patient.get("name", []):
        values.update(name.get("given", []))
        if name.get("family"):
            values.add(name["family"])
    values.update(i["value"] for i in patient.get("identifier", []) if i.get("value"))
    if patient.get("birthDate"):
        values.add(patient["birthDate"])
    for address in patient.get("address", []):
        values.update(address.get("line", []))
    token = (body.get("fhirAuthorization") or {}).get("access_token")
    if token:
        values.add(token)
    return {v for v in values if len(v) >= 4}


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_sample_bundles_leave_no_identifying_value_in_the_logs(client, caplog, path):
    body = load_json(path)
    formatter = JsonFormatter()
    with caplog.at_level(logging.DEBUG), responses.RequestsMock(assert_all_requests_are_fired=False):
        client.post(f"/cds-services/lenalidomide-{body['hook']}", json=body)
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"event": "hook"' in line for line in lines)
    text = "\n".join(lines)
    for value in _identifying_values(body):
        assert value not in text, f"{value!r} leaked into the log"
    for line in lines:
        json.loads(line)


def test_extra_fields_outside_the_allow_list_are_dropped():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.hookInstance = "h-1"
    record.birthDate = "1950-01-01"
    record.access_token = "eyJhbGciOi"
    line = JsonFormatter().format(record)
    assert '"hookInstance": "h-1"' in line
    assert "1950-01-01" not in line and "eyJ" not in line
    assert re.search(r'"ts": "\d{4}-\d\d-\d\dT', line)
