"""Prefetch: use what the client sent, read what it left out (tested with `responses`)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import responses
from responses import matchers

from cds_service.hooks.discovery import PREFETCH_TEMPLATES
from cds_service.hooks.prefetch import PrefetchError, allowed_server, log_not_allowed, render, resolve, token_values
from cds_service.security.fhir_servers import FhirServerAllowList

BASE = "https://ehr.example.org/fhir"
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "male"}
EMPTY = {"resourceType": "Bundle", "type": "searchset", "total": 0}


def _body(prefetch=None, token="secret-token", server=BASE) -> dict:
    body = {
        "hook": "order-sign",
        "hookInstance": "h-1",
        "context": {
            "userId": "Practitioner/u1",
            "patientId": "p1",
            "draftOrders": {"resourceType": "Bundle"},
        },
    }
    if server:
        body["fhirServer"] = server
    if token:
        body["fhirAuthorization"] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 30,
            "scope": "user/*.read",
            "subject": "svc",
        }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


@pytest.fixture
def executor():
    with ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


ALLOWED = FhirServerAllowList([BASE])


def _resolve(body, executor):
    server = allowed_server(body, ALLOWED, None)
    return resolve(body, PREFETCH_TEMPLATES, server=server, executor=executor, timeout=2.0, max_pages=5)


def test_tokens_and_rendering():
    values = token_values({"patientId": "p1", "userId": "Practitioner/u1", "draftOrders": {}})
    assert values == {
        "context.patientId": "p1",
        "context.userId": "Practitioner/u1",
        "userPractitionerId": "u1",
    }
    assert render("PractitionerRole?practitioner={{userPractitionerId}}", values) == "PractitionerRole?practitioner=u1"
    assert render("PractitionerRole?_id={{userPractitionerRoleId}}", values) is None


def test_everything_sent_means_no_reads(executor):
    prefetch = {key: EMPTY for key in PREFETCH_TEMPLATES}
    prefetch["patient"] = PATIENT
    prefetch["practitioner"] = None
    with responses.RequestsMock():  # any HTTP call would fail the test
        resolved = _resolve(_body(prefetch), executor)
    assert resolved.data["patient"] == PATIENT
    assert resolved.data["practitioner"] is None
    assert resolved.unavailable == set()
    assert resolved.read_from_server == []


@responses.activate
def test_missing_keys_are_read_with_the_bearer_token(executor):
    auth = matchers.header_matcher({"Authorization": "Bearer secret-token"})
    responses.get(f"{BASE}/Patient/p1", json=PATIENT, match=[auth])
    responses.get(f"{BASE}/Condition", json=EMPTY, match=[auth, matchers.query_param_matcher({"patient": "p1"})])
    resolved = _resolve(_body({k: EMPTY for k in PREFETCH_TEMPLATES if k not in ("patient", "conditions")}), executor)
    assert resolved.data["patient"] == PATIENT
    assert resolved.data["conditions"] == EMPTY
    assert sorted(resolved.read_from_server) == ["conditions", "patient"]


@responses.activate
def test_next_links_are_followed_and_merged(executor):
    page1 = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Condition", "id": "c1"}}],
        "link": [{"relation": "next", "url": f"{BASE}?page=2"}],
    }
    page2 = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Condition", "id": "c2"}}],
    }
    responses.get(f"{BASE}/Condition", json=page1)
    responses.get(f"{BASE}?page=2", json=page2)
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES if k != "conditions"}
    prefetch["patient"] = PATIENT
    resolved = _resolve(_body(prefetch), executor)
    assert [e["resource"]["id"] for e in resolved.data["conditions"]["entry"]] == ["c1", "c2"]


@responses.activate
def test_a_paginated_bundle_sent_by_the_client_is_completed(executor):
    page1 = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Condition", "id": "c1"}}],
        "link": [{"relation": "next", "url": f"{BASE}/Condition?page=2"}],
    }
    responses.get(
        f"{BASE}/Condition",
        json={"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "id": "c2"}}]},
    )
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES}
    prefetch.update(patient=PATIENT, conditions=page1)
    resolved = _resolve(_body(prefetch), executor)
    assert [e["resource"]["id"] for e in resolved.data["conditions"]["entry"]] == ["c1", "c2"]


@responses.activate
def test_next_link_to_another_host_is_not_followed(executor):
    page1 = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Condition", "id": "c1"}}],
        "link": [{"relation": "next", "url": "https://evil.example.net/steal"}],
    }
    responses.get(f"{BASE}/Condition", json=page1)
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES if k != "conditions"}
    prefetch["patient"] = PATIENT
    resolved = _resolve(_body(prefetch), executor)
    assert [e["resource"]["id"] for e in resolved.data["conditions"]["entry"]] == ["c1"]
    assert len(responses.calls) == 1


def test_null_means_no_data_and_operation_outcome_means_failed(executor):
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES}
    prefetch.update(
        patient=PATIENT,
        conditions=None,
        medications={"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]},
    )
    with responses.RequestsMock():
        resolved = _resolve(_body(prefetch), executor)
    assert resolved.data["conditions"] is None
    assert "medications" in resolved.unavailable
    assert "conditions" not in resolved.unavailable


@responses.activate
def test_server_errors_and_timeouts_make_a_key_unavailable(executor):
    responses.get(f"{BASE}/Condition", status=500)
    responses.get(f"{BASE}/MedicationRequest", body=requests.exceptions.ConnectTimeout())
    responses.get(f"{BASE}/Coverage", json={"resourceType": "OperationOutcome", "issue": []})
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES if k not in ("conditions", "medications", "coverage")}
    prefetch["patient"] = PATIENT
    resolved = _resolve(_body(prefetch), executor)
    assert {"conditions", "medications", "coverage"} <= resolved.unavailable


@responses.activate
def test_patient_that_cannot_be_read_is_a_prefetch_error(executor):
    responses.get(f"{BASE}/Patient/p1", status=404)
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES if k != "patient"}
    with pytest.raises(PrefetchError) as err:
        _resolve(_body(prefetch), executor)
    assert err.value.missing == ["patient"]


def test_no_fhir_server_and_no_patient_is_a_prefetch_error(executor):
    with pytest.raises(PrefetchError):
        _resolve(_body({}, token=None, server=None), executor)


@responses.activate
def test_open_server_is_read_without_a_token(executor):
    responses.get(f"{BASE}/Patient/p1", json=PATIENT)
    prefetch = {k: EMPTY for k in PREFETCH_TEMPLATES if k != "patient"}
    resolved = _resolve(_body(prefetch, token=None), executor)
    assert resolved.data["patient"] == PATIENT
    assert "Authorization" not in responses.calls[0].request.headers


def test_a_server_not_allowed_is_logged_only_when_it_left_keys_unread(executor, caplog):
    """Complete prefetch: nothing to read, so no warning on every call; keys missing: one warning
    naming them (and the server without its query)."""
    other = "https://elsewhere.example/fhir"
    complete = {key: EMPTY for key in PREFETCH_TEMPLATES}
    complete["patient"] = PATIENT
    partial = {"patient": PATIENT}
    with caplog.at_level(logging.WARNING, logger="cds_service.hooks.prefetch"):
        for prefetch in (complete, partial):
            body = _body(prefetch, server=other)
            server = allowed_server(body, ALLOWED, None)
            assert server is None
            resolved = resolve(body, PREFETCH_TEMPLATES, server=server, executor=executor, timeout=2.0, max_pages=5)
            log_not_allowed(body, resolved, None)
    [warning] = [r for r in caplog.records if getattr(r, "event", None) == "fhir_server_not_allowed"]
    assert warning.fhirServer == other
    assert set(warning.keys) == set(PREFETCH_TEMPLATES) - {"patient"}
