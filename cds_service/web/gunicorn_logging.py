"""gunicorn's own log lines in the service's JSON format (``gunicorn.conf.py``: ``logger_class``).

The error log (start, workers booting and exiting, timeouts) gets :class:`JsonFormatter`; the access
log, when enabled (``--access-logfile -``), becomes one JSON line per request with the method, the path
without its query string, the status, the time taken and the request id the answer carried: no client
address, user agent, referrer or query, none of which the service needs and any of which could carry
something about a patient.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from gunicorn import glogging

from .logging_setup import JsonFormatter
from .request_id import HEADER

_MAX_PATH = 200


class JsonLogger(glogging.Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        request_id = next((value for name, value in resp.headers if name.lower() == HEADER.lower()), None)
        self.access_log.info(
            "request",
            extra={
                "event": "access",
                "method": environ.get("REQUEST_METHOD"),
                "path": str(environ.get("PATH_INFO", ""))[:_MAX_PATH],
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "request_id": request_id,
            },
        )
