"""Bookkeeping rows: agents' heartbeats and idempotency keys of retried requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mizzen.store.clock import utcnow
from mizzen.store.orm.base import Base
from mizzen.store.types import BigId, JsonType, UtcDateTime


class AgentRow(Base):
    """A Kubernetes agent (or any executor process) that reports it is alive."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    namespace: Mapped[str | None] = mapped_column(String(255))
    queue: Mapped[str | None] = mapped_column(String(128))
    version: Mapped[str | None] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdempotencyRow(Base):
    """A request already applied: replaying its key returns the stored response instead of re-applying."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<scope>:<client key>"
    response: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
