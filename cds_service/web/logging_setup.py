"""Structured log lines (one JSON object per line) with nothing that identifies a patient.

Only the fields named in ``SAFE_FIELDS`` reach the log, whatever a caller passes in
``extra``: a token, a name or a birth date cannot slip through by accident. An exception is
logged as its type and a safe traceback: ``file:line in function`` frames only, never its
message, its source lines or local values (a ``KeyError`` or ``ValueError`` message may quote
the patient's data).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

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
            line["traceback"] = safe_traceback(record.exc_info[2])
        return json.dumps(line, default=str)


# Frames are shown relative to the folder that holds the service's packages (or site-packages).
_ROOT = Path(__file__).resolve().parents[2]


def safe_traceback(tb: TracebackType | None) -> list[str]:
    """``path:line in function`` for each frame, outermost first: where it failed, not what with.
    Paths are relative to site-packages for libraries, to the source tree for the service."""
    return [f"{_shown_path(Path(f.filename))}:{f.lineno} in {f.name}" for f in traceback.extract_tb(tb)]


def _shown_path(path: Path) -> str:
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    try:
        return str(path.relative_to(_ROOT))
    except ValueError:
        return path.name


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
