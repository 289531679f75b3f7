"""The FHIR server allow-list: comparison rules, what may be listed, and where next links may go."""

from __future__ import annotations

import json

import pytest

from cds_service.hooks.prefetch import render, token_values
from cds_service.security.fhir_servers import FhirServerAllowList, configured_server, request_refusal, without_query
from cds_service.security.jwt_verifier import ConfigError, parse_trusted_issuers
from cds_service.web.config import ConfigurationError, load
from tests.cds_service.security.jwt_helpers import generate_key, jwks

LISTED = "https://EHR.example.org/fhir/R4/"
ALLOW = FhirServerAllowList([LISTED], {"https://a.example": ["https://a-ehr.example.org:8443/fhir"]})


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.example.org/fhir/R4",
        "https://ehr.example.org/fhir/R4/",
        "HTTPS://EHR.EXAMPLE.ORG:443/fhir/R4",
        "https://ehr.example.org:443/fhir/R4/",
    ],
)
def test_scheme_host_and_default_port_compare_case_insensitively(url):
    server = ALLOW.match(url, None)
    assert server is not None
    assert server.url == LISTED.rstrip("/")  # the listed text is what gets read


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.example.org/fhir/r4",  # the path compares exactly
        "https://ehr.example.org/fhir/R4/Patient",
        "https://ehr.example.org/fhir",
        "https://ehr.example.org:8443/fhir/R4",
        "http://ehr.example.org/fhir/R4",
        "https://ehr.example.org./fhir/R4",
        "https://ehr.example.org\\@evil.example/fhir/R4",
        "https://10.0.0.5/fhir/R4",
        "http://169.254.169.254/latest/meta-data",
        "ftp://ehr.example.org/fhir/R4",
        "https://ehr.example.org:99999/fhir/R4",
        "not a url",
    ],
)
def test_anything_else_is_not_allowed(url):
    assert ALLOW.match(url, None) is None


def test_an_issuers_own_servers_apply_to_its_calls_only():
    url = "https://a-ehr.example.org:8443/fhir"
    assert ALLOW.match(url, "https://a.example") is not None
    assert ALLOW.match(url, "https://b.example") is None
    assert ALLOW.match(url, None) is None  # CDS_AUTH=disabled: only CDS_FHIR_SERVERS
    assert ALLOW.match(LISTED, "https://a.example") is not None  # CDS_FHIR_SERVERS applies to everyone


def test_nothing_is_allowed_by_default():
    assert FhirServerAllowList().match("https://ehr.example.org/fhir", None) is None
    assert load({})["CDS_FHIR_SERVERS"] == []


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("https://u:p@ehr.example.org/fhir", "userinfo"),
        ("https://ehr.example.org/fhir?", "query"),
        ("https://ehr.example.org/fhir?x=", "query"),
        ("https://ehr.example.org/fhir#", "fragment"),
        ("https://ehr.example.org/fhir", None),
    ],
)
def test_request_refusals(url, refusal):
    reason = request_refusal(url)
    assert (reason is None) if refusal is None else (refusal in reason)


@pytest.mark.parametrize(
    "url",
    ["http://ehr.example.org/fhir", "http://10.1.2.3/fhir", "https://u:secret@ehr.example.org/fhir", "ehr/fhir"],
)
def test_what_may_not_be_listed_refuses_to_start_with_one_line(url):
    with pytest.raises(ConfigurationError) as err:
        load({"CDS_FHIR_SERVERS": f"https://ok.example.org/fhir, {url}"})
    assert "CDS_FHIR_SERVERS" in str(err.value)
    assert "secret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_plain_http_may_be_listed_for_loopback_only():
    for url in ("http://127.0.0.1:8080/fhir", "http://localhost/fhir", "http://[::1]:9/fhir"):
        assert configured_server(url).scheme == "http"
    assert load({"CDS_FHIR_SERVERS": "https://a.example.org/fhir,http://127.0.0.1:1/fhir"})["CDS_FHIR_SERVERS"] == [
        "https://a.example.org/fhir",
        "http://127.0.0.1:1/fhir",
    ]


def test_trusted_issuers_take_their_fhir_servers():
    key = generate_key()
    issuers = parse_trusted_issuers(
        json.dumps({"https://a.example": {"jwks": jwks(key), "fhirServers": ["https://ehr.a.example/fhir"]}})
    )
    assert issuers["https://a.example"].fhir_servers == ("https://ehr.a.example/fhir",)
    assert key.kid in issuers["https://a.example"].keys
    assert parse_trusted_issuers(json.dumps({"https://b.example": jwks(key)}))["https://b.example"].fhir_servers == ()


@pytest.mark.parametrize(
    "entry",
    [
        {"jwks": "JWKS", "fhirServers": ["http://ehr.a.example/fhir"]},
        {"jwks": "JWKS", "fhirServers": "https://ehr.a.example/fhir"},
        {"jwks": "JWKS", "fhirServer": ["https://ehr.a.example/fhir"]},
    ],
)
def test_bad_issuer_fhir_servers_refuse_to_start(entry):
    entry = {**entry, "jwks": jwks(generate_key())}
    with pytest.raises(ConfigError):
        parse_trusted_issuers(json.dumps({"https://a.example": entry}))


@pytest.mark.parametrize(
    ("link", "followed"),
    [
        ("https://ehr.example.org/fhir/R4?_getpages=2", "https://EHR.example.org/fhir/R4?_getpages=2"),
        ("https://ehr.example.org:443/fhir/R4/Condition?page=2", "https://EHR.example.org/fhir/R4/Condition?page=2"),
        ("https://ehr.example.org/fhir/R4x?page=2", None),
        ("https://ehr.example.org/admin?page=2", None),
        ("https://evil.example.net/fhir/R4?page=2", None),
        ("http://ehr.example.org/fhir/R4?page=2", None),
        ("https://x@ehr.example.org/fhir/R4?page=2", None),
    ],
)
def test_next_links_stay_under_the_allowed_base(link, followed):
    server = ALLOW.match(LISTED, None)
    assert server.on_this_server(link) == followed


def test_values_pasted_into_templates_are_percent_encoded():
    values = token_values({"patientId": "a b/../x?y#z", "userId": "Practitioner/p 1?", "n": 5})
    assert values["context.patientId"] == "a%20b%2F..%2Fx%3Fy%23z"
    assert values["context.userId"] == "Practitioner/p%201%3F"
    assert values["userPractitionerId"] == "p%201%3F"
    assert render("Condition?patient={{context.patientId}}", values) == "Condition?patient=a%20b%2F..%2Fx%3Fy%23z"


def test_logged_urls_carry_no_query_or_userinfo():
    assert without_query("https://u:p@EHR.example.org:8443/fhir?secret=1#f") == "https://EHR.example.org:8443/fhir"
