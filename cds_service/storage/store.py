"""One store for the hook-call audit trail and CDS Hooks feedback.

SQLAlchemy 2.x Core (not the ORM): it is the most widely used and best maintained database
toolkit for Python, speaks both SQLite and PostgreSQL with the same table definitions, has a
real connection pool, and is what Alembic (the migration tool from the same maintainers)
is built on. Core is enough: the store only inserts rows and reads them back.

Durability rules, the same on both databases:

* every write is one transaction (``engine.begin()``); the caller answers 200 only after
  ``commit`` returned, so what was acknowledged is on disk, and a worker killed before
  ``commit`` leaves nothing behind (tests/cds_service/storage/test_crash.py);
* SQLite runs in WAL mode with ``synchronous=FULL`` (a commit is fsynced before it
  returns) and ``BEGIN IMMEDIATE`` (a writer waits for the lock up to the busy timeout
  instead of failing);
* PostgreSQL keeps its default ``synchronous_commit=on``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from gevent import monkey
from sqlalchemy import Column, Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..web.cooperative import off_loop
from .deferred import DeferredRows
from .schema import feedback, fhir_access_tokens, health_probe, hook_calls, jwt_replay

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant shared by every instance: the key of the PostgreSQL advisory lock that
# serializes migrations when several instances start at once.
_MIGRATION_LOCK_KEY = 0x4C454E41  # "LENA"
_SQLITE_BUSY_SECONDS = 30
_MAX_HOOK_INSTANCE = 255
# /healthz makes a real write at most this often per process (Store.write_problem).
PROBE_SECONDS = 5.0


def database_url(settings: Mapping[str, Any]) -> str:
    """``CDS_DATABASE_URL`` when set (PostgreSQL), else the SQLite file ``CDS_FEEDBACK_DB``."""
    url = settings.get("CDS_DATABASE_URL")
    if url:
        parsed = make_url(str(url))
        if parsed.drivername in {"postgresql", "postgres"}:
            # The psycopg 3 driver, not SQLAlchemy's default psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    path = Path(str(settings["CDS_FEEDBACK_DB"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def make_engine(settings: Mapping[str, Any]) -> Engine:
    url = database_url(settings)
    if url.startswith("sqlite"):
        # NullPool: a connection per transaction (SQLite's are cheap; SQLAlchemy 1.x's default for
        # files). Under gevent the writes run in native threads (_write): a shared pool's queue,
        # made of gevent's locks, would be contended across those threads.
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_SECONDS}, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # isolation_level=None stops the sqlite3 module from opening transactions on its
            # own; SQLAlchemy's "begin" below opens them explicitly (SQLAlchemy's documented
            # recipe for correct SQLite transactions, DDL included).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    # gunicorn forks workers from a master that built the app (preload_app): a child must
    # never reuse a pooled connection of its parent's.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _sqlite_file_lock(engine: Engine):
    """Serialize migrations of one SQLite file across processes (a lock file beside it)."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> str | None:
    """``alembic upgrade head``, once even when several processes start together.

    On PostgreSQL a transaction-scoped advisory lock is taken on the migration's own
    connection, so a second instance waits, then finds the schema at head and does nothing.
    Returns the revision the database is at.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            command.upgrade(_alembic_config(conn), "head")
    else:
        with _sqlite_file_lock(engine), engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _utc(value: datetime) -> datetime:
    """SQLite hands timezone-aware datetimes back naive; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _probe(conn: Connection) -> None:
    """Rewrite the one health_probe row (insert it when it is not there yet)."""
    now = datetime.now(UTC)
    if conn.execute(health_probe.update().where(health_probe.c.id == 1).values(written_at=now)).rowcount == 0:
        conn.execute(health_probe.insert(), {"id": 1, "written_at": now})


class StoreUnavailable(SQLAlchemyError):
    """A write failed outside SQLAlchemy (e.g. the SQLite lock file cannot be opened): the store is down."""


@dataclass(frozen=True)
class HookCall:
    """One audit row: what was answered to whom, never what about whom."""

    service_id: str
    hook_instance: str
    http_status: int
    duration_ms: float
    client_iss: str | None = None
    finding_codes: list[str] = field(default_factory=list)
    likelihoods: list[str] = field(default_factory=list)
    coverage_assertion_ids: list[str] = field(default_factory=list)
    order_count: int = 0
    received_at: datetime | None = None


class _SqliteWriteLock:
    """One writer at a time on a SQLite file, across threads and processes, queued in the kernel.

    Without it, concurrent writers meet SQLite's busy handler, which polls with sleeps of up
    to 100 ms: under 10 concurrent hook calls the audit insert put hundreds of milliseconds on
    the p99 (docs/performance.md). ``flock`` wakes the next writer as soon as the lock is
    released. The same transaction, the same durability; only the waiting changes."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}.write-lock"
        # A native lock even under gevent: it is taken in the native threads the writes run in.
        self._threads = monkey.get_original("threading", "Lock")()
        self._fd = -1  # opened on first use in each process
        self._pid: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._pid != os.getpid():  # a forked worker opens its own file description
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def _hook_call_row(call: HookCall) -> dict[str, Any]:
    return {
        "received_at": call.received_at or datetime.now(UTC),
        "service_id": call.service_id,
        "hook_instance": call.hook_instance[:_MAX_HOOK_INSTANCE],
        "client_iss": call.client_iss,
        "http_status": call.http_status,
        "finding_codes": list(call.finding_codes),
        "likelihoods": list(call.likelihoods),
        "coverage_assertion_ids": list(call.coverage_assertion_ids),
        "order_count": call.order_count,
        "duration_ms": round(float(call.duration_ms), 1),
    }


@dataclass
class _PendingRow:
    """An audit row waiting for the group commit (``Store._commit_pending``)."""

    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Store:
    """The audit trail and the feedback, in SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        database = engine.url.database
        sqlite_file = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        self._write_lock = _SqliteWriteLock(str(database)) if sqlite_file else None
        self._batch_lock = threading.Lock()
        self._pending: list[_PendingRow] = []
        self._leading = False
        self.deferred = DeferredRows(self._insert_hook_calls)
        # Whether the last write committed (/healthz reads it); set by _write, the one write path.
        self.last_write_ok = True
        self._probe_lock = threading.Lock()
        self._probed_at: float | None = None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """``engine.begin()``, behind the SQLite write lock when there is one."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock.held(), self.engine.begin() as conn:
            yield conn

    def _write(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one write transaction. On a SQLite file under gevent, in a native thread
        (web/cooperative.py): the wait for the write lock and the commit's fsync would otherwise
        stop every greenlet of the worker. PostgreSQL (psycopg) waits cooperatively by itself."""

        def run() -> T:
            with self._writing() as conn:
                return work(conn)

        try:
            result = off_loop(run) if self._write_lock is not None else run()
        except IntegrityError:
            self.last_write_ok = True  # the database answered: a constraint, not an outage
            raise
        except SQLAlchemyError:
            self.last_write_ok = False
            raise
        except OSError as exc:  # the SQLite write-lock file beside the database cannot be opened
            self.last_write_ok = False
            raise StoreUnavailable(f"the database cannot be written: {type(exc).__name__}") from exc
        self.last_write_ok = True
        return result

    @classmethod
    def open(cls, settings: Mapping[str, Any], *, upgrade: bool = True) -> Store:
        store = cls(make_engine(settings))
        if upgrade:
            migrate(store.engine)
        return store

    # --- JWT replay -------------------------------------------------------------------

    def add_if_new(self, key: tuple[str, str], keep_until: float, now: float) -> bool:
        """Record a client JWT's ``(iss, jti)``; False when it was already used (a replay).

        The primary key makes this atomic across workers and instances. Expired rows are
        dropped as we go, so the table holds only tokens that could still be presented."""
        iss, jti = key[0][:255], key[1][:255]

        def insert(conn: Connection) -> None:
            conn.execute(jwt_replay.delete().where(jwt_replay.c.keep_until <= now))
            conn.execute(jwt_replay.insert(), {"iss": iss, "jti": jti, "keep_until": keep_until})

        try:
            self._write(insert)
        except IntegrityError:
            return False
        return True

    # --- DTR access tokens ------------------------------------------------------------

    def save_access_token(self, token_sha256: str, grant: Mapping[str, Any], expires_at: float, now: float) -> None:
        """Keep an issued /fhir access token (its hash) with the ``client_id``, ``issuer`` and ``scope``
        it was granted; expired rows are dropped as we go."""
        row = {
            "token_sha256": token_sha256,
            "client_id": grant["client_id"],
            "issuer": grant.get("issuer"),
            "scope": grant["scope"],
            "expires_at": expires_at,
        }

        def insert(conn: Connection) -> None:
            conn.execute(fhir_access_tokens.delete().where(fhir_access_tokens.c.expires_at <= now))
            conn.execute(fhir_access_tokens.insert(), row)

        self._write(insert)

    def access_token(self, token_sha256: str, now: float) -> dict[str, Any] | None:
        """The grant of an unexpired access token (``client_id``, ``issuer``, ``scope``), else None."""
        query = select(fhir_access_tokens.c.client_id, fhir_access_tokens.c.issuer, fhir_access_tokens.c.scope).where(
            fhir_access_tokens.c.token_sha256 == token_sha256, fhir_access_tokens.c.expires_at > now
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    # --- audit ------------------------------------------------------------------------

    def record_hook_call(self, call: HookCall) -> None:
        """Insert one audit row in its own transaction; raises if it was not committed."""
        row = _hook_call_row(call)
        if self._write_lock is None:
            self._insert_hook_calls([row])
            return
        waiter = _PendingRow(row)
        with self._batch_lock:
            self._pending.append(waiter)
            lead = not self._leading
            self._leading = True
        if lead:
            self._commit_pending()
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    def defer_hook_call(self, call: HookCall) -> None:
        """Queue the audit row of a call answered ``{"cards": []}``: written within about a second, in a
        batch, off the request path (storage/deferred.py says why and how durably)."""
        self.deferred.add(_hook_call_row(call))

    def _insert_hook_calls(self, rows: list[dict[str, Any]]) -> None:
        self._write(lambda conn: conn.execute(hook_calls.insert(), rows))

    def _commit_pending(self) -> None:
        """Group commit (SQLite): the thread that finds no commit under way inserts every row
        waiting at that moment in one transaction, then the rows that arrived meanwhile, and
        so on; each caller returns only once the transaction holding its row has committed
        (or raises its error). One fsync per batch instead of per hook call: under 10
        concurrent calls the audit insert had become the throughput ceiling and the p99
        (docs/performance.md)."""
        try:
            while True:
                with self._batch_lock:
                    batch, self._pending = self._pending, []
                    if not batch:
                        self._leading = False
                        return
                error: BaseException | None = None
                try:
                    self._insert_hook_calls([waiter.row for waiter in batch])
                except BaseException as exc:
                    error = exc
                for waiter in batch:
                    waiter.error = error
                    waiter.done.set()
                if error is not None and not isinstance(error, Exception):
                    raise error  # e.g. the worker is exiting: stop leading
        except BaseException:
            with self._batch_lock:
                stranded, self._pending = self._pending, []
                self._leading = False
            for waiter in stranded:
                waiter.error = SQLAlchemyError("audit row not written: the committing thread stopped")
                waiter.done.set()
            raise

    def hook_calls(self, hook_instance: str | None = None) -> list[HookCall]:
        query = select(hook_calls).order_by(hook_calls.c.id)
        if hook_instance is not None:
            query = query.where(hook_calls.c.hook_instance == hook_instance)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            HookCall(
                service_id=row["service_id"],
                hook_instance=row["hook_instance"],
                http_status=row["http_status"],
                duration_ms=row["duration_ms"],
                client_iss=row["client_iss"],
                finding_codes=row["finding_codes"],
                likelihoods=row["likelihoods"],
                coverage_assertion_ids=row["coverage_assertion_ids"],
                order_count=row["order_count"],
                received_at=_utc(row["received_at"]),
            )
            for row in rows
        ]

    # --- feedback ---------------------------------------------------------------------

    def add(self, service_id: str, entries: Iterable[Mapping[str, Any]], client_iss: str | None = None) -> int:
        """Insert every entry of one feedback request in one transaction; the count stored.
        ``client_iss`` is the verified JWT's issuer (None with CDS_AUTH=disabled)."""
        now = datetime.now(UTC)
        rows = [
            {
                "received_at": now,
                "service_id": service_id,
                "card_uuid": entry["card"],
                "outcome": entry["outcome"],
                "outcome_timestamp": entry["outcomeTimestamp"],
                "accepted_suggestions": entry.get("acceptedSuggestions") or None,
                "override_reason": entry.get("overrideReason") or None,
                "client_iss": client_iss,
            }
            for entry in entries
        ]
        if rows:
            self._write(lambda conn: conn.execute(feedback.insert(), rows))
        return len(rows)

    def for_card(self, card_uuid: str) -> list[dict[str, Any]]:
        query = select(feedback).where(feedback.c.card_uuid == card_uuid).order_by(feedback.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                "service_id": row["service_id"],
                "card": row["card_uuid"],
                "outcome": row["outcome"],
                "outcomeTimestamp": row["outcome_timestamp"],
                "acceptedSuggestions": row["accepted_suggestions"],
                "overrideReason": row["override_reason"],
                "client_iss": row["client_iss"],
            }
            for row in rows
        ]

    def count(self) -> int:
        """Feedback entries stored (the audit rows are counted by :meth:`hook_call_count`)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(feedback)).scalar_one())

    def hook_call_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(hook_calls)).scalar_one())

    # --- retention (storage/retention.py decides what and when) --------------------------

    def delete_older(self, table: Table, dated_by: Column, cutoff: datetime, batch_rows: int) -> int:
        """Delete the rows of ``table`` dated before ``cutoff``, ``batch_rows`` per transaction
        (so the write lock is never held for long and hook calls keep being recorded); the count."""
        (key,) = table.primary_key.columns
        batch = select(key).where(dated_by < cutoff).order_by(key).limit(batch_rows).scalar_subquery()
        deleted = 0
        while True:
            rows = self._write(lambda conn: conn.execute(table.delete().where(key.in_(batch))).rowcount)
            deleted += rows
            if rows < batch_rows:
                return deleted

    # --- health -----------------------------------------------------------------------

    def write_problem(self) -> str | None:
        """Why the store does not accept writes right now, or None when it does.

        Its last write must have committed, and a real one (the ``health_probe`` row) is made at
        most every PROBE_SECONDS per process, so that a store that broke while idle, or that came
        back, is seen within seconds without /healthz writing on every call."""
        now = time.monotonic()
        with self._probe_lock:
            due = self._probed_at is None or now - self._probed_at >= PROBE_SECONDS
            if due:
                self._probed_at = now
        if due:
            try:
                self._write(_probe)
            except IntegrityError:
                pass  # another process inserted the row first: the database took the write
            except SQLAlchemyError as exc:
                log.warning("store unavailable", extra={"event": "store_unhealthy", "error": type(exc).__name__})
        return None if self.last_write_ok else "the audit trail does not accept writes"

    def close(self) -> None:
        """Write the queued audit rows, then let the connections go (the console commands close
        their store before removing its temporary database)."""
        self.deferred.flush()
        self.engine.dispose()
