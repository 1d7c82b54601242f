"""Initial schema: projects, runs, status conditions, metrics + summaries, artifacts + lineage,
agents, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types at this revision (migrations never import the live models).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "projects",
        _id(),
        sa.Column("uuid", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("uuid", name="uq_projects_uuid"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "runs",
        _id(),
        sa.Column("uuid", sa.String(32), nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("description", sa.Text()),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("content", sa.Text()),
        sa.Column("spec", JSON),
        sa.Column("plan", JSON),
        sa.Column("params", JSON, nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("outputs", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("pipeline_uuid", sa.String(32)),
        sa.Column("parent_uuid", sa.String(32)),
        sa.Column("original_uuid", sa.String(32)),
        sa.Column("cloning_kind", sa.String(16)),
        sa.Column("executor", sa.String(32)),
        sa.Column("queue", sa.String(128)),
        sa.Column("cache_key", sa.String(128)),
        sa.Column("managed", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(64)),
        sa.Column("log_lines", ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("started_at", TIME),
        sa.Column("finished_at", TIME),
        sa.Column("duration", sa.Float()),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_runs_project_id_projects", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("uuid", name="uq_runs_uuid"),
        sa.UniqueConstraint("token_hash", name="uq_runs_token_hash"),
    )
    op.create_index("ix_runs_project_id_created_at", "runs", ["project_id", "created_at"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_pipeline_uuid", "runs", ["pipeline_uuid"])
    op.create_index("ix_runs_cache_key", "runs", ["cache_key"])

    op.create_table(
        "status_conditions",
        _id(),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(255)),
        sa.Column("message", sa.Text()),
        sa.Column("time", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_conditions"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_status_conditions_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_status_conditions_run_id_id", "status_conditions", ["run_id", "id"])

    op.create_table(
        "metrics",
        _id(),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("step", sa.BigInteger()),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_metrics_run_id_runs", ondelete="CASCADE"),
    )
    op.create_index("ix_metrics_history", "metrics", ["run_id", "name", "step", "timestamp", "value"])

    op.create_table(
        "metric_summaries",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_step", sa.BigInteger()),
        sa.Column("last_timestamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "name", name="pk_metric_summaries"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_metric_summaries_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_metric_summaries_name_last", "metric_summaries", ["name", "last"])

    op.create_table(
        "artifacts",
        _id(),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.Text()),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_artifacts_project_id_projects", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("state", name="uq_artifacts_state"),
    )
    op.create_table(
        "lineage",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("artifact_id", ID, nullable=False),
        sa.Column("is_input", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "artifact_id", "is_input", name="pk_lineage"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_lineage_run_id_runs", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["artifact_id"], ["artifacts.id"], name="fk_lineage_artifact_id_artifacts", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_lineage_artifact_id", "lineage", ["artifact_id"])

    op.create_table(
        "agents",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("namespace", sa.String(255)),
        sa.Column("queue", sa.String(128)),
        sa.Column("version", sa.String(64)),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("name", name="uq_agents_name"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("response", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "agents",
        "lineage",
        "artifacts",
        "metric_summaries",
        "metrics",
        "status_conditions",
        "runs",
        "projects",
    ):
        op.drop_table(table)
