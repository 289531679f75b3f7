"""jwt_replay: the client JWT ids already used, shared across workers and instances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jwt_replay",
        sa.Column("iss", sa.String(255), primary_key=True),
        sa.Column("jti", sa.String(255), primary_key=True),
        sa.Column("keep_until", sa.Float, nullable=False),
    )
    op.create_index("jwt_replay_keep_until", "jwt_replay", ["keep_until"])


def downgrade() -> None:
    op.drop_index("jwt_replay_keep_until", table_name="jwt_replay")
    op.drop_table("jwt_replay")
