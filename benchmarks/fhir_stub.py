"""A tiny FHIR server on 127.0.0.1 for the prefetch-fallback benchmark.

It answers every read after a fixed delay (standing in for the EHR's FHIR server) with the
resource or searchset Bundle that the typical request would have prefetched under that key,
and records how many reads were in flight at once: when the service reads the missing keys
in parallel, a request's reads overlap and its latency is about one delay, not the sum.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Which prefetch key answers a read, by the path's first segment and whether it is a search.
_ROUTES = {
    ("Patient", False): "patient",
    ("Condition", True): "conditions",
    ("MedicationRequest", True): "medications",
    ("Coverage", True): "coverage",
    ("Observation", True): "observations",
    ("Procedure", True): "procedures",
    ("PractitionerRole", False): "practitioner",
    ("Practitioner", False): "practitioner",
    ("PractitionerRole", True): "practitionerRoles",
}


class FhirStub:
    """``with FhirStub(prefetch, delay_s=0.01) as stub:`` serves on ``stub.base_url``."""

    def __init__(self, served: dict[str, Any], *, delay_s: float, base_path: str = "/fhir") -> None:
        self.delay_s = delay_s
        self.base_path = base_path
        self._bodies = {key: json.dumps(value).encode() for key, value in served.items() if value is not None}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.reads = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes on a kept-alive connection: without
            # TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add up to 40 ms.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                stub._enter()
                try:
                    time.sleep(stub.delay_s)
                    body = stub._answer(self.path)
                finally:
                    stub._leave()
                status = 200 if body is not None else 404
                payload = body if body is not None else b'{"resourceType":"OperationOutcome","issue":[]}'
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fhir-stub", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}{self.base_path}"

    def _enter(self) -> None:
        with self._lock:
            self.reads += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def reset_counters(self) -> None:
        with self._lock:
            self.reads = 0
            self.max_in_flight = self.in_flight

    def _answer(self, raw_path: str) -> bytes | None:
        parts = urlsplit(raw_path)
        path = parts.path
        if not path.startswith(self.base_path + "/"):
            return None
        segments = [s for s in path[len(self.base_path) + 1 :].split("/") if s]
        if not segments:
            return None
        key = _ROUTES.get((segments[0], len(segments) == 1))
        return self._bodies.get(key) if key else None

    def __enter__(self) -> FhirStub:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
