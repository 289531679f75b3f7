"""Slow and idle clients do not delay other callers (CONTRACT.md, Process), on a live gunicorn
started as the Procfile starts it: 200 connections trickle their headers and 50 their bodies, one
byte at a time, while a normal hook call and ``/healthz`` each answer within one second. Then every
slow connection is closed by the service within its read deadline: none is left to hang.

The one-second bound is the contract's behaviour, asserted once; speed is measured by
``benchmarks/run.py``. One worker (``WEB_CONCURRENCY=1``), so a single worker takes all of them.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
import urllib.request

import pytest

from tests.conftest import SAMPLES
from tests.live_server import running_service

HEADER_TRICKLERS = 200
BODY_TRICKLERS = 50
BODY_READ_SECONDS = 2
HEAD_READ_SECONDS = 5  # gunicorn's keepalive (gunicorn.conf.py)


def _open(host: str, port: int, first: bytes) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(first)
    return sock


class Trickle:
    """Sends one byte to each socket every half second until stopped; notes the ones the service closed."""

    def __init__(self, sockets: list[socket.socket]) -> None:
        self.sockets = sockets
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # closed by the service
                    sock.send(b"a")

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _timed(request: urllib.request.Request) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        return response.status, time.monotonic() - started


def _closed_by_the_service(sock: socket.socket, until: float) -> bool:
    """Whether the service closes ``sock`` before ``until`` (any answer it sends first is read)."""
    sock.setblocking(False)
    while (remaining := until - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], remaining)
        if not readable:
            continue
        try:
            if sock.recv(65536) == b"":
                return True
        except ConnectionResetError:
            return True
    return False


@pytest.fixture
def service(tmp_path):
    with running_service(tmp_path, CDS_AUTH="disabled", CDS_BODY_READ_SECONDS=str(BODY_READ_SECONDS)) as base:
        yield base


def test_slow_and_idle_connections_do_not_delay_other_callers(service):
    host, port = service.removeprefix("http://").split(":")
    path = "/cds-services/lenalidomide-order-sign"
    heads = [
        _open(host, int(port), f"POST {path} HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode())
        for _ in range(HEADER_TRICKLERS)
    ]
    bodies = [
        _open(
            host,
            int(port),
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n{".encode(),
        )
        for _ in range(BODY_TRICKLERS)
    ]
    opened = time.monotonic()
    try:
        with Trickle(heads + bodies):
            time.sleep(1)  # every slow connection has been accepted and is being read
            hook = urllib.request.Request(
                service + path,
                data=(SAMPLES / "01-mm-likely-approved.json").read_bytes(),
                headers={"Content-Type": "application/json"},
            )
            hook_status, hook_seconds = _timed(hook)
            health_status, health_seconds = _timed(urllib.request.Request(service + "/healthz"))
            assert (hook_status, health_status) == (200, 200)
            assert hook_seconds < 1 and health_seconds < 1, (hook_seconds, health_seconds)
            # Still trickling: each slow request is cut off at its read deadline.
            limit = opened + HEAD_READ_SECONDS + BODY_READ_SECONDS + 3
            assert all(_closed_by_the_service(sock, limit) for sock in bodies + heads)
    finally:
        for sock in heads + bodies:
            sock.close()
