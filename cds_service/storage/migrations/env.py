"""Alembic environment: run on the connection the application hands over.

``cds_service.storage.migrate`` opens the connection, takes the migration lock (a
PostgreSQL advisory lock, or SQLite's write lock) and passes the connection in
``config.attributes["connection"]``; the alembic command line (``alembic upgrade head``
with ``alembic.ini`` at the project root) builds one from the configured database instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cds_service.storage.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from cds_service.storage.store import make_engine
    from cds_service.web.config import load_from_env

    engine = make_engine(load_from_env())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against the database")
run_migrations_online()
