"""feedback.client_iss (who sent it) and health_probe (the row /healthz rewrites to prove writes work).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("client_iss", sa.Text, nullable=True))
    op.create_table(
        "health_probe",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("health_probe")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("client_iss")
