"""fhir_access_tokens: the bearer tokens issued to DTR clients, shared across workers and instances.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_access_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("issuer", sa.Text, nullable=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("fhir_access_tokens_expires_at", "fhir_access_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_index("fhir_access_tokens_expires_at", table_name="fhir_access_tokens")
    op.drop_table("fhir_access_tokens")
