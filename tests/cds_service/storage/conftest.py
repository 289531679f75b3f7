"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when
``CDS_TEST_DATABASE_URL`` names one (``.ci/run`` starts one and sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("CDS_TEST_DATABASE_URL")
requires_postgres = pytest.mark.skipif(not PG_URL, reason="CDS_TEST_DATABASE_URL is not set (.ci/run sets it)")


@pytest.fixture
def postgresql_settings() -> Iterator[dict[str, Any]]:
    """A fresh PostgreSQL schema of its own (the search_path of every connection), dropped after."""
    if not PG_URL:
        pytest.skip("CDS_TEST_DATABASE_URL is not set (.ci/run sets it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield {"CDS_DATABASE_URL": url.render_as_string(hide_password=False), "CDS_FEEDBACK_DB": "unused"}
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def sqlite_settings(tmp_path) -> dict[str, Any]:
    return {"CDS_DATABASE_URL": None, "CDS_FEEDBACK_DB": str(tmp_path / "store.sqlite3")}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
def settings(request) -> dict[str, Any]:
    """The store settings for one backend (the test runs once per backend)."""
    return request.getfixturevalue(f"{request.param}_settings")
