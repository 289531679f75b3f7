"""Draft-order limits (CONTRACT.md, Process): more draft orders than ``CDS_MAX_DRAFT_ORDERS`` or more
lenalidomide orders to judge than ``CDS_MAX_LENALIDOMIDE_ORDERS`` is a 413; the largest request the
limits allow is answered, on a live gunicorn, within the hook deadline."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.benchmarks_guard.test_growth import BASES, _grown, with_draft_orders
from tests.conftest import SAMPLES, load_json
from tests.live_server import running_service

SIGN = "/cds-services/lenalidomide-order-sign"
SELECT = "/cds-services/lenalidomide-order-select"


def _request(lenalidomide: int, others: int, readable: int = 0) -> dict:
    return with_draft_orders(load_json(SAMPLES / BASES[0]), lenalidomide, others, readable)


@pytest.mark.parametrize(
    ("lenalidomide", "others", "status"),
    [(20, 480, 200), (20, 481, 413), (1, 500, 413), (21, 0, 413)],
)
def test_default_limits(app, lenalidomide, others, status):
    response = app.test_client().post(SIGN, json=_request(lenalidomide, others))
    assert response.status_code == status
    if status == 413:
        issue = response.get_json()["issue"][0]
        assert issue["expression"] == ["context.draftOrders"]
        assert ("CDS_MAX_LENALIDOMIDE_ORDERS" if lenalidomide > 20 else "CDS_MAX_DRAFT_ORDERS") in issue["diagnostics"]


def test_the_413_is_on_the_audit_trail(app):
    response = app.test_client().post(SIGN, json=_request(21, 0))
    assert response.status_code == 413
    assert [call.http_status for call in app.extensions["cds_store"].hook_calls()] == [413]


def test_on_order_select_only_the_selected_lenalidomide_orders_count(app):
    body = _request(30, 0)
    body["hook"] = "order-select"
    body["context"]["selections"] = ["MedicationRequest/len-3"]
    response = app.test_client().post(SELECT, json=body)
    assert response.status_code == 200
    body["context"]["selections"] = [f"MedicationRequest/len-{i}" for i in range(21)]
    assert app.test_client().post(SELECT, json=body).status_code == 413


def test_limits_are_configurable(make_app):
    client = make_app(CDS_MAX_DRAFT_ORDERS=10, CDS_MAX_LENALIDOMIDE_ORDERS=2).test_client()
    assert client.post(SIGN, json=_request(2, 8)).status_code == 200
    assert client.post(SIGN, json=_request(2, 9)).status_code == 413
    assert client.post(SIGN, json=_request(3, 0)).status_code == 413


def test_the_largest_request_the_limits_allow_is_answered_within_the_deadline(tmp_path):
    """500 drafts (20 lenalidomide, 100 dexamethasone, 380 drugs no rule reads) on a record of
    30 Conditions, 100 Observations and 20 MedicationRequests, on the Procfile's gunicorn."""
    body = with_draft_orders(_grown(BASES[0], 1), 20, 480, readable=100)
    deadline = 2.5  # CDS_HOOK_DEADLINE_SECONDS, its default
    with running_service(tmp_path, CDS_AUTH="disabled", CDS_HOOK_DEADLINE_SECONDS=str(deadline)) as base:
        request = urllib.request.Request(
            base + SIGN, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
            elapsed = time.monotonic() - started
    assert response.status == 200
    pa = [c for c in answer["cards"] if c["extension"]["lenalidomide-cds.finding"]["code"] == "pa-assessment"]
    assert len(pa) == 20  # one judgement per lenalidomide order
    assert elapsed < deadline, elapsed
