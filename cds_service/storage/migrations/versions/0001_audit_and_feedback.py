"""hook_calls audit table and feedback table; adopts a pre-Alembic feedback table.

Before this store, feedback lived in a ``feedback`` table created by hand (text timestamps,
JSON as text). Its rows were acknowledged to the EHR, so they are copied into the new table,
not dropped.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_LEGACY = "feedback_pre_alembic"


def _json(value: str | None) -> object:
    return json.loads(value) if value else None


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def upgrade() -> None:
    bind = op.get_bind()
    legacy = "feedback" in sa.inspect(bind).get_table_names()
    if legacy:
        op.drop_index("feedback_card", table_name="feedback", if_exists=True)
        op.rename_table("feedback", _LEGACY)

    op.create_table(
        "hook_calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("hook_instance", sa.String(255), nullable=False),
        sa.Column("client_iss", sa.Text, nullable=True),
        sa.Column("http_status", sa.SmallInteger, nullable=False),
        sa.Column("finding_codes", sa.JSON, nullable=False),
        sa.Column("likelihoods", sa.JSON, nullable=False),
        sa.Column("coverage_assertion_ids", sa.JSON, nullable=False),
        sa.Column("order_count", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("hook_calls_hook_instance", "hook_calls", ["hook_instance"])
    op.create_index("hook_calls_received_at", "hook_calls", ["received_at"])

    feedback = op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("card_uuid", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("outcome_timestamp", sa.Text, nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("override_reason", sa.JSON(none_as_null=True), nullable=True),
    )
    op.create_index("feedback_card", "feedback", ["card_uuid"])

    if legacy:
        rows = bind.execute(sa.text(f"SELECT * FROM {_LEGACY} ORDER BY id")).mappings().all()
        if rows:
            op.bulk_insert(
                feedback,
                [
                    {
                        "id": row["id"],
                        "received_at": _utc(row["received_at"]),
                        "service_id": row["service_id"],
                        "card_uuid": row["card_uuid"],
                        "outcome": row["outcome"],
                        "outcome_timestamp": row["outcome_timestamp"],
                        "accepted_suggestions": _json(row["accepted_suggestions"]),
                        "override_reason": _json(row["override_reason"]),
                    }
                    for row in rows
                ],
            )
        op.drop_table(_LEGACY)


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("hook_calls")
