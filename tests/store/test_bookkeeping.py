"""Lineage, agents' heartbeats and idempotency keys, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mizzen.errors import Conflict
from mizzen.store import Database
from mizzen.store.database import read_session, write_session
from mizzen.store.orm import ArtifactRow
from mizzen.store.repos import agents, idempotency, lineage, runs
from mizzen.store.repos.lineage import LineageRecord

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def test_lineage_dedupes_artifacts_per_project(database: Database) -> None:
    with write_session(database) as session:
        first, _ = runs.create_run(session, runs.NewRun(project="a"))
        second, _ = runs.create_run(session, runs.NewRun(project="a"))
        other, _ = runs.create_run(session, runs.NewRun(project="b"))
        data = LineageRecord("digits", "dataframe", None, {"rows": 1797}, is_input=True)
        model = LineageRecord("model", "model", "outputs/model.pkl", {"acc": 0.9})
        lineage.record_lineage(session, first, [data, model], now=T0)
        lineage.record_lineage(session, first, [model], now=T0)  # recorded twice: one link
        lineage.record_lineage(session, second, [data], now=T0)
        lineage.record_lineage(session, other, [data], now=T0)
    with read_session(database) as session:
        records = lineage.list_lineage(session, first.id)
        assert {(r.name, r.kind, r.path, r.is_input) for r in records} == {
            ("digits", "dataframe", None, True),
            ("model", "model", "outputs/model.pkl", False),
        }
        assert all(r.created_at == T0 for r in records)
        assert [r.name for r in lineage.list_lineage(session, second.id)] == ["digits"]
        assert session.scalar(select(func.count()).select_from(ArtifactRow)) == 3  # digits x2 projects, model


def test_agent_heartbeats_upsert(database: Database) -> None:
    with write_session(database) as session:
        agents.heartbeat(session, "agent-1", namespace="ml", queue="gpu", version="0.1.0", now=T0)
    with write_session(database) as session:
        row = agents.heartbeat(
            session, "agent-1", namespace="ml", queue="gpu", now=T0 + timedelta(seconds=30)
        )
        assert (row.created_at, row.last_seen_at) == (T0, T0 + timedelta(seconds=30))
        agents.heartbeat(session, "agent-0", now=T0)
    with read_session(database) as session:
        assert [(a.name, a.queue) for a in agents.list_agents(session)] == [
            ("agent-0", None),
            ("agent-1", "gpu"),
        ]


def test_idempotency_keys_remember_and_expire(database: Database) -> None:
    with write_session(database) as session:
        assert idempotency.recall(session, "k1") is None
        idempotency.remember(session, "k1", {"accepted": 3}, now=T0)
        idempotency.remember(session, "k2", {"accepted": 1}, now=T0 + timedelta(days=2))
    with pytest.raises(Conflict), write_session(database) as session:
        idempotency.remember(session, "k1", {"accepted": 4})
    with write_session(database) as session:
        assert idempotency.recall(session, "k1") == {"accepted": 3}
        assert idempotency.forget_older_than(session, T0 + timedelta(days=1)) == 1
        assert idempotency.recall(session, "k1") is None
        assert idempotency.recall(session, "k2") == {"accepted": 1}
