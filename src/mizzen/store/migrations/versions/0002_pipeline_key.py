"""Pipelines: a child's key within its pipeline, unique per pipeline.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pipeline_key", sa.String(128), nullable=True))
        batch.create_index("ux_runs_pipeline_key", ["pipeline_uuid", "pipeline_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ux_runs_pipeline_key")
        batch.drop_column("pipeline_key")
