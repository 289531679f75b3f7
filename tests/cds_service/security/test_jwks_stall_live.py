"""JWKS refetch stalls, attacked against a live gunicorn on loopback (the Procfile's command).

The issuer's JWKS host serves its key set once (the fetch at start), then answers every later
fetch by trickling its body one byte at a time, forever. Tokens with random ``kid`` values force
refetches. No call may wait for them: an unknown ``kid`` is a 401 at once, the known key keeps
verifying, ``/healthz`` answers, and the host sees one refetch at a time, at most once a minute.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.cds_service.security.jwt_helpers import bearer, generate_key, jwks, make_claims
from tests.conftest import SAMPLES
from tests.live_server import free_port, running_service

ISSUER = "https://ehr.example.org"
SIGN = "/cds-services/lenalidomide-order-sign"
KEY = generate_key("ES384")


class TricklingJwks(BaseHTTPRequestHandler):
    fetches: ClassVar[list[float]] = []
    serves_first: ClassVar[bool] = True  # the first fetch (at start) gets the key set
    stop: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        TricklingJwks.fetches.append(time.monotonic())
        body = json.dumps(jwks(KEY)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if TricklingJwks.serves_first and len(TricklingJwks.fetches) == 1:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            while not TricklingJwks.stop.wait(0.3):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass  # the service gave up on the fetch

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TricklingJwks)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    TricklingJwks.stop.set()
    server.shutdown()
    server.server_close()


def _post(base: str, key, **headers: str) -> int:
    token = key.sign(make_claims(ISSUER, base + SIGN, now=time.time()))
    request = urllib.request.Request(
        base + SIGN,
        data=(SAMPLES / "04-brand-revlimid.json").read_bytes(),
        headers={"Content-Type": "application/json", "Authorization": bearer(token), **headers},
    )
    try:
        # A call that waited on the trickling refetch would run into this timeout instead.
        with urllib.request.urlopen(request, timeout=3) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def _service(tmp_path, jwks_host: str) -> Iterator[str]:
    port = free_port()
    with running_service(
        tmp_path,
        port=port,
        CDS_AUTH="required",
        CDS_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        CDS_TRUSTED_ISSUERS=json.dumps({ISSUER: jwks_host}),
        CDS_JWKS_MIN_REFETCH_SECONDS="1",
    ) as service:
        yield service


def test_refetches_against_a_trickling_jwks_host_never_hold_up_calls(tmp_path, jwks_host):
    TricklingJwks.fetches.clear()
    TricklingJwks.serves_first = True
    with _service(tmp_path, jwks_host) as service:
        assert len(TricklingJwks.fetches) == 1  # fetched at start, before any call
        assert _post(service, KEY) == 200
        time.sleep(1.2)  # past CDS_JWKS_MIN_REFETCH_SECONDS: an unknown kid may start a refetch
        results: list[int] = []
        callers = [
            threading.Thread(target=lambda: results.append(_post(service, generate_key("ES384")))) for _ in range(16)
        ] + [threading.Thread(target=lambda: results.append(_post(service, KEY))) for _ in range(4)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(10)
        assert sorted(results) == [200] * 4 + [401] * 16
        with urllib.request.urlopen(service + "/healthz", timeout=3) as response:
            assert response.status == 200
        assert _post(service, KEY) == 200
        # One refetch, still trickling, for sixteen unknown kids (one worker here).
        assert len(TricklingJwks.fetches) == 2


def test_a_jwks_host_that_trickles_from_the_start_neither_blocks_nor_refuses_the_start(tmp_path, jwks_host):
    TricklingJwks.fetches.clear()
    TricklingJwks.serves_first = False
    started = time.monotonic()
    with _service(tmp_path, jwks_host) as service:
        assert time.monotonic() - started < 20  # the fetch at start was cut off at its deadline
        assert len(TricklingJwks.fetches) == 1
        # No key was ever fetched: a call waits briefly for a new fetch, then is refused.
        time.sleep(1.2)
        assert _post(service, KEY) == 401
        assert len(TricklingJwks.fetches) == 2
