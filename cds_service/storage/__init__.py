"""Durable storage: the hook-call audit trail and CDS Hooks feedback (SQLite or PostgreSQL)."""

from .audit import coverage_assertion_ids
from .store import HookCall, Store, current_revision, database_url, head_revision, make_engine, migrate

__all__ = [
    "HookCall",
    "Store",
    "coverage_assertion_ids",
    "current_revision",
    "database_url",
    "head_revision",
    "make_engine",
    "migrate",
]
