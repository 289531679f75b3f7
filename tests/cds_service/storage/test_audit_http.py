"""The audit trail through the HTTP API: one row per hook call, what was answered, no clinical data."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
import responses
from sqlalchemy.exc import OperationalError

from cds_service.storage import coverage_assertion_ids
from tests.cds_service.security.jwt_helpers import ISSUER, bearer, generate_key, jwks, make_claims
from tests.conftest import SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
BASE = "https://cds.plan.example"


def _codes(result: dict) -> list[str]:
    return [card["extension"]["lenalidomide-cds.finding"]["code"] for card in result["cards"]]


def _identifying_values(body: dict) -> list[str]:
    patient = body["prefetch"]["patient"]
    values = [patient["id"], patient["birthDate"]]
    values += [ident["value"] for ident in patient.get("identifier", [])]
    for name in patient.get("name", []):
        values += [name.get("family", ""), *name.get("given", [])]
    return [value for value in values if value]


@pytest.mark.parametrize("bundle", ["01-mm-likely-approved.json", "03-mm-likely-denied-thalidomide.json"])
def test_a_200_answer_leaves_one_row_saying_what_was_answered(make_app, settings, bundle):
    app = make_app(**settings)
    body = load_json(SAMPLES / bundle)
    response = app.test_client().post(SIGN, json=body)
    assert response.status_code == 200
    result = response.get_json()
    store = app.extensions["cds_store"]
    [row] = store.hook_calls()
    assert row.service_id == "lenalidomide-order-sign"
    assert row.hook_instance == body["hookInstance"]
    assert row.http_status == 200
    assert row.client_iss is None  # CDS_AUTH=disabled: no verified client
    assert row.finding_codes == _codes(result) and row.finding_codes
    pa = [c for c in result["cards"] if c["extension"]["lenalidomide-cds.finding"]["code"] == "pa-assessment"]
    assert row.likelihoods == [pa[0]["extension"]["lenalidomide-cds.finding"]["likelihood"]]
    assert row.coverage_assertion_ids == coverage_assertion_ids(result) and len(row.coverage_assertion_ids) == 1
    assert row.order_count == 1
    assert row.duration_ms > 0
    stored = json.dumps(dataclasses.asdict(row), default=str)
    for value in _identifying_values(body):
        assert value not in stored


def test_a_412_is_on_the_trail(make_app, settings):
    app = make_app(**settings)
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # every read fails to connect
        response = app.test_client().post(SIGN, json=body)
    assert response.status_code == 412
    [row] = app.extensions["cds_store"].hook_calls()
    assert (row.hook_instance, row.http_status, row.finding_codes, row.order_count) == (
        body["hookInstance"],
        412,
        [],
        0,
    )


def test_a_400_is_on_the_trail_once_the_hook_instance_is_known(client, app):
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    body["hook"] = "order-select"
    assert client.post(SIGN, json=body).status_code == 400
    del body["hookInstance"]
    assert client.post(SIGN, json=body).status_code == 400
    assert client.post(SIGN, data="not json", content_type="application/json").status_code == 400
    rows = app.extensions["cds_store"].hook_calls()
    assert [(row.hook_instance, row.http_status) for row in rows] == [("1e9b2ffd-e89b-46c8-a15a-940a15448ef8", 400)]


def test_the_verified_issuer_is_recorded_and_the_token_is_not(make_app, settings):
    key = generate_key("ES384")
    app = make_app(
        CDS_AUTH="required", CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(key)}), CDS_PUBLIC_BASE_URL=BASE, **settings
    )
    token = key.sign(make_claims(ISSUER, BASE + SIGN, now=time.time()))
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    response = app.test_client().post(SIGN, json=body, headers={"Authorization": bearer(token)})
    assert response.status_code == 200
    [row] = app.extensions["cds_store"].hook_calls()
    assert row.client_iss == ISSUER
    assert token not in json.dumps(dataclasses.asdict(row), default=str)


def test_refused_calls_write_no_row(make_app, settings):
    key = generate_key("ES384")
    app = make_app(
        CDS_AUTH="required", CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(key)}), CDS_PUBLIC_BASE_URL=BASE, **settings
    )
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    assert app.test_client().post(SIGN, json=body).status_code == 401
    assert app.extensions["cds_store"].hook_call_count() == 0


def _broken(*_args, **_kwargs):
    raise OperationalError("INSERT", {}, Exception("disk I/O error"))


def test_no_trail_no_answer(app, client, monkeypatch):
    """A 200 whose coverage assertions could not be recorded would be undisputable: 503."""
    monkeypatch.setattr(app.extensions["cds_store"], "record_hook_call", _broken)
    response = client.post(SIGN, json=load_json(SAMPLES / "01-mm-likely-approved.json"))
    assert response.status_code == 503
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert "cards" not in response.get_json()


def test_feedback_is_not_acknowledged_unless_committed(app, client, monkeypatch):
    monkeypatch.setattr(app.extensions["cds_store"], "add", _broken)
    entry = {
        "card": "3f1e2d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
        "outcome": "accepted",
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    response = client.post(SIGN + "/feedback", json={"feedback": [entry]})
    assert response.status_code >= 500


def test_feedback_through_the_api_lands_in_the_configured_database(make_app, settings):
    app = make_app(**settings)
    entry = {
        "card": "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-23T10:05:31Z",
    }
    assert app.test_client().post(SIGN + "/feedback", json={"feedback": [entry]}).get_json() == {"stored": 1}
    reopened = make_app(**settings)
    assert [
        row["outcome"]
        for row in reopened.extensions["cds_feedback_store"].for_card("9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
    ] == ["overridden"]


def test_a_413_for_too_many_prefetch_resources_is_on_the_trail(make_app):
    app = make_app(CDS_MAX_PREFETCH_RESOURCES=1)
    body = load_json(SAMPLES / "01-mm-likely-approved.json")
    assert app.test_client().post(SIGN, json=body).status_code == 413
    [row] = app.extensions["cds_store"].hook_calls()
    assert (row.hook_instance, row.http_status) == (body["hookInstance"], 413)
