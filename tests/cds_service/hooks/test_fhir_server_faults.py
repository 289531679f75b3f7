"""The EHR's FHIR server is not trusted: it may hang, refuse, fail, redirect or flood.

A real HTTP server on 127.0.0.1 misbehaves in each way; the hook still answers, and the
cards say which data could not be read (unknown, never unmet).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.conftest import SAMPLES, findings, load_json

SIGN = "/cds-services/lenalidomide-order-sign"
SIDECAR = load_json(SAMPLES / "fhir-server" / "11-prefetch-missing.json")
HANG_SECONDS = 6.0


def _answers() -> dict[str, dict]:
    """The sidecar's answers keyed by path+query relative to the server base."""
    base = SIDECAR["base"].rstrip("/")
    return {(q[len(base) + 1 :] if q.startswith("http") else q): a for q, a in SIDECAR["responses"].items()}


class FaultyFhir(BaseHTTPRequestHandler):
    fault_for: ClassVar[dict[str, str]] = {}
    answers: ClassVar[dict[str, dict]] = {}
    reached_gate: ClassVar[threading.Event] = threading.Event()
    gate: ClassVar[threading.Event] = threading.Event()

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        query = self.path.removeprefix("/fhir/")
        resource_type = query.split("?")[0].split("/")[0]
        fault = self.fault_for.get(resource_type)
        if fault == "hang":
            time.sleep(HANG_SECONDS)
        elif fault == "gate":  # answer once the test opens the gate
            self.reached_gate.set()
            self.gate.wait(HANG_SECONDS)
        elif fault == "500":
            self.send_error(500)
            return
        elif fault == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.2:9/steal")
            self.end_headers()
            return
        elif fault in ("deep", "deep-500"):  # a resource nested 10,000 (or 1,000) levels deep: a failed read
            depth = 5000 if fault == "deep" else 500
            nested = b'{"url": "x", "extension": [' * depth + b"{}" + b"]}" * depth
            payload = b'{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": ' + nested + b"}]}"
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        elif fault == "flood":
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.end_headers()
            self.wfile.write(b'{"resourceType": "Bundle", "entry": [' + b" " * (3 * 1024 * 1024))
            return
        answer = self.answers.get(query)
        if answer is None:
            self.send_error(404)
            return
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def fhir_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FaultyFhir)
    server.daemon_threads = True
    FaultyFhir.answers = _answers()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()
    FaultyFhir.fault_for = {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(base: str) -> dict:
    body = load_json(SAMPLES / "11-prefetch-missing.json")
    body["fhirServer"] = base
    return body


def _pa(result: dict) -> dict:
    return findings(result, "pa-assessment")[0]


@pytest.mark.parametrize("fault", ["hang", "500", "redirect", "flood", "deep", "deep-500"])
def test_faulty_reads_become_unknown_not_unmet(make_app, fhir_server, fault):
    FaultyFhir.fault_for = {"MedicationRequest": fault, "PractitionerRole": fault}
    client = make_app(
        CDS_FHIR_SERVERS=fhir_server,
        CDS_HOOK_DEADLINE_SECONDS=0.5,
        CDS_FHIR_TIMEOUT_SECONDS=0.4,
        CDS_FHIR_MAX_RESPONSE_BYTES=1024 * 1024,
    ).test_client()
    started = time.monotonic()
    response = client.post(SIGN, json=_request(fhir_server))
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < HANG_SECONDS  # the hook did not wait for the hung server
    card = _pa(response.get_json())
    finding = card["extension"]["lenalidomide-cds.finding"]
    statuses = {c["clause"]: c["status"] for c in finding["criteria"]}
    assert statuses["CP.PHAR.71 I.A.5"] == "unknown"  # concurrency needs the medication history
    assert finding["likelihood"] == "needs-documentation"
    assert "medication history" in card["detail"]


def test_refused_connection_without_a_patient_is_412(make_app):
    closed = f"http://127.0.0.1:{_closed_port()}/fhir"
    client = make_app(CDS_FHIR_SERVERS=closed).test_client()
    response = client.post(SIGN, json=_request(closed))
    assert response.status_code == 412
    assert response.get_json()["issue"][0]["expression"] == ["prefetch.patient"]


def test_patient_read_that_hangs_is_412_within_the_deadline(make_app, fhir_server):
    FaultyFhir.fault_for = {"Patient": "hang"}
    client = make_app(
        CDS_FHIR_SERVERS=fhir_server, CDS_HOOK_DEADLINE_SECONDS=0.5, CDS_FHIR_TIMEOUT_SECONDS=0.4
    ).test_client()
    started = time.monotonic()
    response = client.post(SIGN, json=_request(fhir_server))
    assert response.status_code == 412
    assert time.monotonic() - started < HANG_SECONDS


def test_healthy_local_server_gives_the_full_answer(make_app, fhir_server):
    client = make_app(CDS_FHIR_SERVERS=fhir_server).test_client()
    response = client.post(SIGN, json=_request(fhir_server))
    assert response.status_code == 200
    assert _pa(response.get_json())["extension"]["lenalidomide-cds.finding"]["likelihood"] == "likely-approved"


def test_a_call_waiting_on_the_fhir_server_does_not_hold_up_other_calls(make_app, fhir_server):
    """A call that waits on the EHR's FHIR server lets the others compute meanwhile."""
    FaultyFhir.fault_for = {"MedicationRequest": "gate"}
    FaultyFhir.reached_gate, FaultyFhir.gate = threading.Event(), threading.Event()
    app = make_app(CDS_FHIR_SERVERS=fhir_server, CDS_HOOK_DEADLINE_SECONDS=5, CDS_FHIR_TIMEOUT_SECONDS=5)
    waiting: dict = {}
    thread = threading.Thread(target=lambda: waiting.update(r=app.test_client().post(SIGN, json=_request(fhir_server))))
    thread.start()
    try:
        assert FaultyFhir.reached_gate.wait(HANG_SECONDS)
        other = app.test_client().post(SIGN, json=load_json(SAMPLES / "01-mm-likely-approved.json"))
        assert other.status_code == 200
        assert not waiting  # answered while the first call still waited on its read
    finally:
        FaultyFhir.gate.set()
        thread.join(HANG_SECONDS * 2)
    assert waiting["r"].status_code == 200
    assert _pa(waiting["r"].get_json())["extension"]["lenalidomide-cds.finding"]["likelihood"] == "likely-approved"
