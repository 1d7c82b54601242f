"""Agents' heartbeats (the Kubernetes agent reports itself here; `mizzen agent ls` reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mizzen.store.clock import utcnow
from mizzen.store.orm import AgentRow
from mizzen.store.repos._upsert import dialect_insert


def heartbeat(
    session: Session,
    name: str,
    *,
    namespace: str | None = None,
    queue: str | None = None,
    version: str | None = None,
    meta: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AgentRow:
    now = now or utcnow()
    changes = {
        "namespace": namespace,
        "queue": queue,
        "version": version,
        "meta": meta or {},
        "last_seen_at": now,
    }
    upsert = (
        dialect_insert(session, AgentRow)
        .values(name=name, created_at=now, **changes)
        .on_conflict_do_update(index_elements=["name"], set_=changes)
        .returning(AgentRow)
    )
    # populate_existing: a row this session loaded before takes the values just written.
    return session.scalars(upsert, execution_options={"populate_existing": True}).one()


def list_agents(session: Session) -> list[AgentRow]:
    return list(session.scalars(select(AgentRow).order_by(AgentRow.name)))
