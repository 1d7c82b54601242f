"""Projects, runs and their status history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mizzen.store.clock import utcnow
from mizzen.store.orm.base import Base
from mizzen.store.types import BigId, JsonType, UtcDateTime


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project_id_created_at", "project_id", "created_at"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_created_at", "created_at"),
        Index("ix_runs_pipeline_uuid", "pipeline_uuid"),
        Index("ix_runs_cache_key", "cache_key"),
        # A pipeline's children: one per key, so a restarted or second driver never makes one twice.
        Index("ux_runs_pipeline_key", "pipeline_uuid", "pipeline_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    # Written only by mizzen.store.repos.statuses.set_status.
    status: Mapped[str] = mapped_column(String(32))
    content: Mapped[str | None] = mapped_column(Text)  # the polyaxonfile as the user wrote it
    spec: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    pipeline_uuid: Mapped[str | None] = mapped_column(String(32))
    pipeline_key: Mapped[str | None] = mapped_column(String(128))  # unique among a pipeline's children
    parent_uuid: Mapped[str | None] = mapped_column(String(32))
    original_uuid: Mapped[str | None] = mapped_column(String(32))
    cloning_kind: Mapped[str | None] = mapped_column(String(16))
    executor: Mapped[str | None] = mapped_column(String(32))
    queue: Mapped[str | None] = mapped_column(String(128))
    cache_key: Mapped[str | None] = mapped_column(String(128))
    managed: Mapped[bool] = mapped_column(Boolean, default=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    log_lines: Mapped[int] = mapped_column(BigId, default=0)  # offsets handed out to log chunks so far
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration: Mapped[float | None] = mapped_column(Float)  # seconds

    project: Mapped[ProjectRow] = relationship(lazy="joined", innerjoin=True)


class StatusConditionRow(Base):
    __tablename__ = "status_conditions"
    __table_args__ = (Index("ix_status_conditions_run_id_id", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    time: Mapped[datetime] = mapped_column(UtcDateTime)
