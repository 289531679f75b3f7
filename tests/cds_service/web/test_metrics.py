"""``/metrics`` in one process (the Flask test client): counts and timings of hook calls, FHIR reads
and audit commits; open without a token; nothing about a patient; labels a caller cannot invent.
The multiprocess sums under gunicorn: tests/scenarios/test_metrics_live.py."""

from __future__ import annotations

import json
import re

import responses
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.cds_service.security.jwt_helpers import ISSUER, generate_key, jwks
from tests.cds_service.web.test_logging import _identifying_values
from tests.conftest import SAMPLES, load_json

SIGN = "/cds-services/lenalidomide-order-sign"


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_hook_call_is_counted_by_service_status_finding_and_likelihood(client):
    service = {"service": "lenalidomide-order-sign"}
    watched = [
        ("cds_hook_calls_total", service | {"status": "200"}),
        ("cds_hook_findings_total", service | {"finding": "dose-limit"}),
        ("cds_hook_findings_total", service | {"finding": "pa-assessment"}),
        ("cds_hook_likelihoods_total", service | {"likelihood": "needs-documentation"}),
        ("cds_hook_duration_seconds_count", service),
        ("cds_cards_per_answer_count", service),
        ("cds_cards_per_answer_sum", service),
        ("cds_audit_commit_duration_seconds_count", {"outcome": "ok"}),
    ]
    before = [_value(name, **labels) for name, labels in watched]
    answer = client.post(SIGN, json=load_json(SAMPLES / "05-over-ceiling.json")).get_json()
    grown = [_value(name, **labels) - was for (name, labels), was in zip(watched, before, strict=True)]
    assert grown == [1, 1, 1, 1, 1, 1, len(answer["cards"]), 1]


def test_errors_are_counted_by_status_and_an_unknown_service_id_is_one_label(client):
    before_400 = _value("cds_hook_calls_total", service="lenalidomide-order-sign", status="400")
    before_404 = _value("cds_hook_calls_total", service="unknown", status="404")
    assert client.post(SIGN, json={"hook": "order-sign"}).status_code == 400
    for invented in ("a", "b" * 200, "x;y"):
        assert client.post(f"/cds-services/{invented}", json={}).status_code == 404
    assert _value("cds_hook_calls_total", service="lenalidomide-order-sign", status="400") == before_400 + 1
    assert _value("cds_hook_calls_total", service="unknown", status="404") == before_404 + 3
    services = {
        sample.labels["service"]
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for sample in family.samples
        if "service" in sample.labels
    }
    assert services <= {"lenalidomide-order-select", "lenalidomide-order-sign", "unknown"}


def test_fhir_reads_are_counted_by_outcome_with_their_time(make_app):
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    client = make_app(CDS_FHIR_SERVERS=body["fhirServer"]).test_client()
    before = _value("cds_fhir_read_duration_seconds_count", outcome="failed")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fhir:
        fhir.add(responses.GET, re.compile(r"https://ehr\.example\.org/fhir/.*"), status=503)
        assert client.post(SIGN, json=body).status_code == 412
    # Every prefetch key the request left out was read once, and failed.
    assert _value("cds_fhir_read_duration_seconds_count", outcome="failed") - before >= 7


def test_metrics_need_no_token_and_hold_nothing_about_a_patient(make_app):
    key = generate_key("ES384")
    app = make_app(
        CDS_AUTH="required",
        CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks(key)}),
        CDS_PUBLIC_BASE_URL="https://cds.plan.example",
    )
    client = app.test_client()
    assert client.post(SIGN, json=load_json(SAMPLES / "01-mm-likely-approved.json")).status_code == 401
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'cds_hook_calls_total{service="lenalidomide-order-sign",status="401"}' in text
    for path in sorted(SAMPLES.glob("*.json")):
        for value in _identifying_values(load_json(path)):
            assert value not in text
