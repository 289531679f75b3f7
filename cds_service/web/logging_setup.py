"""Structured log lines (one JSON object per line) with nothing that identifies a patient.

Only the fields named in ``SAFE_FIELDS`` reach the log, whatever a caller passes in
``extra``: a token, a name or a birth date cannot slip through by accident.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

SAFE_FIELDS = (
    "event",
    "service",
    "hookInstance",
    "status",
    "findings",
    "likelihood",
    "orders",
    "duration_ms",
    "prefetch_read",
    "prefetch_unavailable",
    "error_type",
    "reason",
    "iss",
    "kid",
    "count",
    "path",
    "method",
    "fhirServer",
    "client_id",
    "oauth_error",
    "request_id",
    "traceparent",
    "version",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, default=str)


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
