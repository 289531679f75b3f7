"""The gunicorn worker: gevent, with a deadline on reading each request's body.

Why gevent (docs/performance.md): a connection waiting on a slow or idle client costs a greenlet, not
one of a handful of threads, so hundreds of them do not delay other callers (CONTRACT.md, Process: up
to 500 per instance). gunicorn bounds the wait for a request's head with ``keepalive`` (the gevent
worker reads each request line and headers under ``gevent.Timeout(keepalive)`` and closes the
connection when it runs out), but not the wait for its body, which the application reads: a client
trickling its body would keep its greenlet, and its place in ``worker_connections``, for as long as it
likes. This worker gives every body read a deadline, ``CDS_BODY_READ_SECONDS`` after the head
arrived; past it the read ends as a disconnection (the application answers 400 if it can, and the
connection is closed).

The standard library is patched by ``gunicorn.conf.py`` before anything else is imported, so the
application's threads (the FHIR reads), locks, sockets and ``requests`` are cooperative.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

from .config import load_from_env


class BodyReadDeadline(TimeoutError):
    """The client did not send its request body within ``CDS_BODY_READ_SECONDS``."""


class _DeadlineSocket:
    """A client socket whose ``recv`` gives up at ``deadline`` (a ``time.monotonic`` value, or None)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline: float | None = None
        self.expired = False

    def recv(self, size: int) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.expired = True
            raise BodyReadDeadline("request body not received in time")
        try:
            with gevent.Timeout(remaining, BodyReadDeadline("request body not received in time")):
                return self._sock.recv(size)
        except BodyReadDeadline:
            self.expired = True
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class ReadDeadlineGeventWorker(GeventWorker):
    """gunicorn's gevent worker, with a deadline on each request body (module docstring)."""

    def init_process(self) -> None:
        self.body_read_seconds = float(load_from_env()["CDS_BODY_READ_SECONDS"])
        super().init_process()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        super().handle(listener, _DeadlineSocket(client), addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        sock.deadline = time.monotonic() + self.body_read_seconds
        try:
            result = super().handle_request(listener_name, req, sock, addr)
        finally:
            sock.deadline = None
        if sock.expired:
            raise StopIteration("request body read deadline passed")  # close this connection
        return result
