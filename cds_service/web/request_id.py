"""A request id in every log line of a call, and the W3C trace context it came with.

``X-Request-ID`` is taken from the request when it is a short token of safe characters (a proxy or the
EHR may have set it), else made (a random UUID); the answer echoes it. A valid W3C ``traceparent``
(https://www.w3.org/TR/trace-context/#traceparent-header) is kept and logged, so a line can be joined
to the EHR's trace; an invalid one is ignored, as the recommendation asks. Both live in context
variables, and a log record factory stamps them on every record made while the call runs (the lines of
the FHIR reads too: ``prefetch`` runs each read in a copy of the caller's context); ``JsonFormatter``
writes them.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, request

HEADER = "X-Request-ID"
MAX_LENGTH = 128
_SAFE = re.compile(rf"[A-Za-z0-9._~:@+=/-]{{1,{MAX_LENGTH}}}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\s]*)?")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)


def accepted_request_id(value: str | None) -> str:
    """The caller's id when it is safe to log and echo, else a new one."""
    if value and _SAFE.fullmatch(value):
        return value
    return str(uuid.uuid4())


def valid_traceparent(value: str | None) -> str | None:
    """The header when it is a valid W3C traceparent, else None (a version this code does not know
    may carry more fields after a dash; version ff and all-zero ids are invalid)."""
    if not value:
        return None
    value = value.strip()
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return value


_base_factory = logging.getLogRecordFactory()


def _record_with_ids(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record made while a call runs carries its ids (``JsonFormatter`` writes them)."""
    record = _base_factory(*args, **kwargs)
    if (rid := request_id.get()) is not None:
        record.request_id = rid
        if (trace := traceparent.get()) is not None:
            record.traceparent = trace
    return record


def init_app(app: Flask) -> None:
    if logging.getLogRecordFactory() is not _record_with_ids:
        logging.setLogRecordFactory(_record_with_ids)

    @app.before_request
    def _take() -> None:
        request_id.set(accepted_request_id(request.headers.get(HEADER)))
        traceparent.set(valid_traceparent(request.headers.get("traceparent")))

    @app.after_request
    def _echo(response: Response) -> Response:
        rid = request_id.get()
        if rid is not None:
            response.headers[HEADER] = rid
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        request_id.set(None)
        traceparent.set(None)
