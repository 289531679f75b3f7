"""How long stored rows are kept, and the deletion of older ones (``lenalidomide-cds purge``).

Each kind of row the store keeps for a limited time is one :class:`Retained` entry: its table, the
column that dates a row, and the setting giving the days to keep it. A new table with a retention of
its own (the DTR judgements kept past ``CDS_DTR_CONTEXT_DAYS``) is one more entry in ``RETAINED``.

Rows go in batches of ``BATCH_ROWS``, each its own transaction (``Store.delete_older``): a purge of a
year of audit rows never holds the database's write lock (SQLite) or a long transaction (PostgreSQL)
for long, so hook calls keep being recorded while it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Table, func, select

from .schema import dtr_contexts, dtr_questionnaire_errors, feedback, hook_calls
from .store import Store

BATCH_ROWS = 5000


@dataclass(frozen=True)
class Retained:
    """Rows of ``table`` older than ``setting`` days (by ``dated_by``) may be deleted."""

    table: Table
    dated_by: Column
    setting: str

    @property
    def name(self) -> str:
        return self.table.name


RETAINED: tuple[Retained, ...] = (
    Retained(hook_calls, hook_calls.c.received_at, "CDS_AUDIT_RETENTION_DAYS"),
    Retained(feedback, feedback.c.received_at, "CDS_AUDIT_RETENTION_DAYS"),
    Retained(dtr_questionnaire_errors, dtr_questionnaire_errors.c.received_at, "CDS_AUDIT_RETENTION_DAYS"),
    Retained(dtr_contexts, dtr_contexts.c.created_at, "CDS_DTR_CONTEXT_DAYS"),
)


@dataclass(frozen=True)
class Purged:
    """What a purge did to one table: ``days`` is None when its setting is not set (all kept)."""

    table: str
    setting: str
    days: int | None
    cutoff: datetime | None
    rows: int


def purge(store: Store, settings: Mapping[str, Any], now: datetime, *, dry_run: bool = False) -> list[Purged]:
    """Delete (or, with ``dry_run``, count) every retained row older than its setting's days."""
    done = []
    for retained in RETAINED:
        days = settings.get(retained.setting)
        if days is None:
            done.append(Purged(retained.name, retained.setting, None, None, 0))
            continue
        cutoff = now - timedelta(days=int(days))
        count = (
            _count(store, retained, cutoff)
            if dry_run
            else store.delete_older(retained.table, retained.dated_by, cutoff, BATCH_ROWS)
        )
        done.append(Purged(retained.name, retained.setting, int(days), cutoff, count))
    return done


def _count(store: Store, retained: Retained, cutoff: datetime) -> int:
    query = select(func.count()).select_from(retained.table).where(retained.dated_by < cutoff)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
