"""Durable store for CDS Hooks feedback: one row per feedback entry, in SQLite (WAL).

A connection per operation keeps it safe across gunicorn workers and threads; each
insert is one transaction, so what was acknowledged with a 200 is on disk.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    service_id TEXT NOT NULL,
    card_uuid TEXT NOT NULL,
    outcome TEXT NOT NULL,
    outcome_timestamp TEXT NOT NULL,
    accepted_suggestions TEXT,
    override_reason TEXT
);
CREATE INDEX IF NOT EXISTS feedback_card ON feedback (card_uuid);
"""


class FeedbackStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10)
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def add(self, service_id: str, entries: Iterable[dict[str, Any]]) -> int:
        now = datetime.now(UTC).isoformat()
        rows = [
            (
                now,
                service_id,
                entry["card"],
                entry["outcome"],
                entry["outcomeTimestamp"],
                json.dumps(entry.get("acceptedSuggestions")) if entry.get("acceptedSuggestions") else None,
                json.dumps(entry.get("overrideReason")) if entry.get("overrideReason") else None,
            )
            for entry in entries
        ]
        with closing(self._connect()) as conn, conn:
            conn.executemany(
                "INSERT INTO feedback (received_at, service_id, card_uuid, outcome, outcome_timestamp,"
                " accepted_suggestions, override_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def for_card(self, card_uuid: str) -> list[dict[str, Any]]:
        with closing(self._connect()) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM feedback WHERE card_uuid = ? ORDER BY id", (card_uuid,)).fetchall()
        return [
            {
                "service_id": row["service_id"],
                "card": row["card_uuid"],
                "outcome": row["outcome"],
                "outcomeTimestamp": row["outcome_timestamp"],
                "acceptedSuggestions": json.loads(row["accepted_suggestions"]) if row["accepted_suggestions"] else None,
                "overrideReason": json.loads(row["override_reason"]) if row["override_reason"] else None,
            }
            for row in rows
        ]

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def healthy(self) -> bool:
        try:
            with closing(self._connect()) as conn:
                conn.execute("SELECT 1 FROM feedback LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True
