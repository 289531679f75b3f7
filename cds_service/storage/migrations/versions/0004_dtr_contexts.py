"""dtr_contexts and dtr_questionnaire_errors: the judgements kept for DTR, the errors clients log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dtr_contexts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("assertion_id", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("questionnaire", sa.Text, nullable=False),
        sa.Column("coverage_ref", sa.Text, nullable=False),
        sa.Column("order_ref", sa.Text, nullable=False),
        sa.Column("indication", sa.String(64), nullable=False),
        sa.Column("pathway", sa.String(16), nullable=False),
        sa.Column("likelihood", sa.String(32), nullable=False),
        sa.Column("criteria", sa.JSON, nullable=False),
    )
    op.create_index("dtr_contexts_assertion", "dtr_contexts", ["assertion_id", "issuer"], unique=True)
    op.create_index("dtr_contexts_created_at", "dtr_contexts", ["created_at"])
    op.create_table(
        "dtr_questionnaire_errors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.Text, nullable=True),
        sa.Column("issuer", sa.Text, nullable=True),
        sa.Column("questionnaires", sa.JSON, nullable=False),
        sa.Column("issues", sa.JSON, nullable=False),
    )
    op.create_index("dtr_questionnaire_errors_received_at", "dtr_questionnaire_errors", ["received_at"])


def downgrade() -> None:
    op.drop_index("dtr_questionnaire_errors_received_at", table_name="dtr_questionnaire_errors")
    op.drop_table("dtr_questionnaire_errors")
    op.drop_index("dtr_contexts_created_at", table_name="dtr_contexts")
    op.drop_index("dtr_contexts_assertion", table_name="dtr_contexts")
    op.drop_table("dtr_contexts")
