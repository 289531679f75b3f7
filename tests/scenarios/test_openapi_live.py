"""schemathesis against the live service: no 5xx, and every response matches /openapi.json."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.cds_service.security.jwt_helpers import ISSUER, generate_key, jwks
from tests.live_server import running_service

OPERATIONS = [
    ("GET", "/cds-services"),
    ("POST", "/cds-services/{service_id}"),
    ("POST", "/cds-services/{service_id}/feedback"),
    ("GET", "/healthz"),
    ("GET", "/version"),
]
# Readable without a JWT: the load balancer's health check, and the version (as /openapi.json shows it).
PUBLIC = {"/healthz", "/version"}


@pytest.fixture(scope="module")
def live_schema(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("live"), CDS_AUTH="disabled") as base:
        yield schemathesis.openapi.from_url(base + "/openapi.json")


@pytest.fixture(scope="module")
def secured_schema(tmp_path_factory):
    issuers = json.dumps({ISSUER: jwks(generate_key("ES384"))})
    with running_service(
        tmp_path_factory.mktemp("secured"),
        CDS_AUTH="required",
        CDS_TRUSTED_ISSUERS=issuers,
        CDS_PUBLIC_BASE_URL="https://cds.plan.example",
    ) as base:
        yield schemathesis.openapi.from_url(base + "/openapi.json")


def test_document_describes_every_endpoint(live_schema):
    paths = set(live_schema.raw_schema["paths"])
    assert paths == {path for _, path in OPERATIONS}


def _run(schema, method: str, path: str) -> list[int]:
    operation = schema[path][method]
    calls: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def check(case):
        # OpenAPI 3.0 cannot say "hook must be this service's hook" or "fhirAuthorization needs
        # fhirServer", so a schema-valid body may rightly get 400: that one check is left out.
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        calls.append(response.status_code)

    check()
    return calls


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_5xx_and_responses_match_the_document(live_schema, method, path):
    calls = _run(live_schema, method, path)
    assert calls and all(status < 500 for status in calls)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_secured_service_refuses_what_schemathesis_forges(secured_schema, method, path):
    calls = _run(secured_schema, method, path)
    assert calls and all(status < 500 for status in calls)
    if path not in PUBLIC:
        assert set(calls) == {401}
