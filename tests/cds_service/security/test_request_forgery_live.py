"""Request forgery through ``fhirServer``, attacked against a live gunicorn on loopback.

The service runs as the Procfile starts it, with authentication on and two trusted issuers: A, whose
``fhirServers`` lists one FHIR server, and B, with none; ``CDS_FHIR_SERVERS`` lists one https base for
everyone. A FHIR server on 127.0.0.1 answers every read with a Patient and records each request, so a
read that should never happen is seen. Each attack must fail, and the answer to a server that is not
allowed must be the same as the answer to a server that does not exist (no 200-versus-412 oracle).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.cds_service.security.jwt_helpers import bearer, generate_key, jwks, make_claims
from tests.conftest import SAMPLES, load_json
from tests.live_server import free_port, running_service

SIGN = "/cds-services/lenalidomide-order-sign"
ISSUER_A = "https://ehr-a.example.org"
ISSUER_B = "https://ehr-b.example.org"
SERVED = load_json(SAMPLES / "fhir-server" / "11-prefetch-missing.json")["responses"]
EMPTY = {"resourceType": "Bundle", "type": "searchset", "total": 0}


class RecordingFhir(BaseHTTPRequestHandler):
    """Answers every GET as a FHIR server would (the sample's Patient, else an empty searchset)."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        RecordingFhir.seen.append((self.path, self.headers.get("Authorization")))
        answer = SERVED["Patient/pat-11"] if "/Patient/" in self.path else EMPTY
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fhir() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingFhir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def keys():
    return {ISSUER_A: generate_key("ES384"), ISSUER_B: generate_key("ES384")}


@pytest.fixture(scope="module")
def service(tmp_path_factory, fhir, keys) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    issuers = {
        ISSUER_A: {"jwks": jwks(keys[ISSUER_A]), "fhirServers": [f"http://127.0.0.1:{fhir}/fhir-a"]},
        ISSUER_B: jwks(keys[ISSUER_B]),
    }
    with running_service(
        tmp_path_factory.mktemp("forgery"),
        port=port,
        CDS_AUTH="required",
        CDS_PUBLIC_BASE_URL=base,
        CDS_TRUSTED_ISSUERS=json.dumps(issuers),
        CDS_FHIR_SERVERS=f"https://127.0.0.1:{fhir}/fhir",
        CDS_FHIR_TIMEOUT_SECONDS="1",
    ) as url:
        yield url


def _call(service: str, keys, issuer: str, fhir_server: str, **context: str) -> tuple[int, dict]:
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    body["fhirServer"] = fhir_server
    body["context"].update(context)
    token = keys[issuer].sign(make_claims(issuer, service + SIGN, now=time.time()))
    request = urllib.request.Request(
        service + SIGN,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": bearer(token)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _forget_reads():
    RecordingFhir.seen.clear()


def test_the_allowed_server_of_the_calling_issuer_is_read(service, keys, fhir):
    status, answer = _call(service, keys, ISSUER_A, f"http://127.0.0.1:{fhir}/fhir-a")
    assert status == 200, answer
    assert answer["cards"]
    assert RecordingFhir.seen and all(path.startswith("/fhir-a/") for path, _ in RecordingFhir.seen)
    assert {auth for _, auth in RecordingFhir.seen} == {"Bearer sample-access-token-not-real"}


def test_issuer_a_allowed_server_is_not_usable_by_issuer_b(service, keys, fhir):
    status, answer = _call(service, keys, ISSUER_B, f"http://127.0.0.1:{fhir}/fhir-a")
    assert status == 412
    assert answer["issue"][0]["expression"] == ["prefetch.patient"]
    assert RecordingFhir.seen == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{fhir}/fhir",  # loopback, listed only as https: no token over plain http
        "http://127.0.0.1:{fhir}/fhir-a/..",  # a path that walks out of A's base
        "http://127.0.0.1:{fhir}/",  # the server's root
        "http://localhost:{fhir}/fhir-a",  # another spelling of the host
        "http://2130706433:{fhir}/fhir-a",  # 127.0.0.1 as one number
        "http://0x7f.0.0.1:{fhir}/fhir-a",  # hexadecimal
        "http://127.1:{fhir}/fhir-a",  # short form
        "http://[::ffff:127.0.0.1]:{fhir}/fhir-a",  # IPv4-mapped IPv6
        "http://127.0.0.1:{service_port}/cds-services",  # the service's own port
    ],
)
def test_servers_that_are_not_allowed_are_never_contacted_and_look_absent(service, keys, fhir, target):
    service_port = service.rsplit(":", 1)[1]
    status, answer = _call(service, keys, ISSUER_A, target.format(fhir=fhir, service_port=service_port))
    absent_status, absent = _call(service, keys, ISSUER_A, f"http://127.0.0.1:{_closed_port()}/fhir-a")
    assert RecordingFhir.seen == []
    # The oracle is closed: a live server that is not allowed answers like no server at all.
    assert (status, answer) == (absent_status, absent) == (412, absent)


@pytest.mark.parametrize(
    ("suffix", "why"),
    [("#", "fragment"), ("?x=", "query"), ("/Patient/pat-11?", "query")],
)
def test_fhir_server_with_a_query_or_fragment_is_a_400(service, keys, fhir, suffix, why):
    status, answer = _call(service, keys, ISSUER_A, f"http://127.0.0.1:{fhir}/fhir-a{suffix}")
    assert status == 400
    assert answer["issue"][0]["expression"] == ["fhirServer"]
    assert why in answer["issue"][0]["diagnostics"]
    assert RecordingFhir.seen == []


def test_fhir_server_with_userinfo_is_a_400(service, keys, fhir):
    status, answer = _call(service, keys, ISSUER_A, f"http://user:pw@127.0.0.1:{fhir}/fhir-a")
    assert status == 400
    assert answer["issue"][0]["expression"] == ["fhirServer"]
    assert "pw" not in json.dumps(answer)
    assert RecordingFhir.seen == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patientId", "../../admin/x?"),
        ("patientId", "pat-11#"),
        ("patientId", "pat-11/../../x"),
        ("userId", "Practitioner/../../admin/x?"),
        ("userId", "Practitioner/prac%2F.."),
    ],
)
def test_context_ids_that_are_not_fhir_ids_are_a_400_naming_the_field(service, keys, fhir, field, value):
    status, answer = _call(service, keys, ISSUER_A, f"http://127.0.0.1:{fhir}/fhir-a", **{field: value})
    assert status == 400
    assert answer["issue"][0]["expression"] == [f"context.{field}"]
    assert RecordingFhir.seen == []
