"""Audit rows of calls that asserted nothing, written in batches off the request path.

Most calls an EHR makes to the service are for orders that are not lenalidomide: they are answered
``{"cards": []}`` and assert nothing a payer could be asked to defend. Their audit rows are kept
(they show that the service was called and answered) but not worth an fsync on the request path:
each worker queues them here and one background thread writes what is queued about once a second,
in one transaction, and once more when the process exits. Best effort, as the contract allows for
such calls: a worker killed with SIGKILL loses at most its last second of these rows, and rows that
cannot be written (the database down) are kept and retried up to ``max_pending``, then dropped with a
log line that counts them. Rows of calls whose answer carries cards or system actions never come
here: they are committed before the answer (``Store.record_hook_call``).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Row = dict[str, Any]


class DeferredRows:
    """A per-process queue of rows and the thread that writes them with ``write(rows)``."""

    def __init__(self, write: Callable[[list[Row]], None], *, interval: float = 1.0, max_pending: int = 10_000):
        self._write = write
        self._interval = interval
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._pending: list[Row] = []
        self._pid: int | None = None
        self._wake = threading.Event()
        self.dropped = 0

    def add(self, row: Row) -> None:
        with self._lock:
            if len(self._pending) >= self._max_pending:
                self.dropped += 1
                return
            self._pending.append(row)
            start = self._pid != os.getpid()
            if start:  # the first row in this process (gunicorn forks the workers after building the app)
                self._pid = os.getpid()
        if start:
            threading.Thread(target=self._run, name="audit-deferred", daemon=True).start()
            atexit.register(self.flush)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every queued row now, in one transaction; the count written (0 when it failed)."""
        with self._flushing:
            with self._lock:
                rows, self._pending = self._pending, []
                dropped, self.dropped = self.dropped, 0
            if dropped:
                log.error("deferred audit rows dropped", extra={"event": "audit_deferred_dropped", "rows": dropped})
            if not rows:
                return 0
            try:
                self._write(rows)
            except Exception as exc:
                with self._lock:
                    keep = max(0, self._max_pending - len(self._pending))
                    self.dropped += len(rows) - min(keep, len(rows))
                    self._pending[:0] = rows[:keep]
                log.error(
                    "deferred audit rows not written; kept for the next try",
                    extra={"event": "audit_deferred_failed", "rows": len(rows), "error_type": type(exc).__name__},
                )
                return 0
            return len(rows)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()
