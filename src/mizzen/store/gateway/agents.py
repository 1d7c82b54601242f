"""Agents' heartbeats: the processes that execute runs elsewhere report themselves here."""

from __future__ import annotations

from typing import Any

from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import agent_record
from mizzen.store.records import AgentRecord
from mizzen.store.repos import agents as repo


def heartbeat(
    db: Database,
    name: str,
    *,
    namespace: str | None = None,
    queue: str | None = None,
    version: str | None = None,
    meta: dict[str, Any] | None = None,
) -> AgentRecord:
    """Record that agent ``name`` is alive now (created on its first heartbeat)."""
    with write_session(db) as session:
        row = repo.heartbeat(session, name, namespace=namespace, queue=queue, version=version, meta=meta)
        return agent_record(row)


def list_agents(db: Database) -> list[AgentRecord]:
    with read_session(db) as session:
        return [agent_record(row) for row in repo.list_agents(session)]
