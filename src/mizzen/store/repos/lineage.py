"""Artifacts and their lineage: which run produced (or consumed) what."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mizzen.store.clock import utcnow
from mizzen.store.orm import ArtifactRow, LineageRow, RunRow
from mizzen.store.records import LineageRecord
from mizzen.store.repos._upsert import dialect_insert


def _state(project_id: int, kind: str, name: str, path: str | None) -> str:
    return hashlib.sha256(f"{project_id}\0{kind}\0{name}\0{path or ''}".encode()).hexdigest()


def record_lineage(
    session: Session, run: RunRow, records: list[LineageRecord], *, now: datetime | None = None
) -> list[LineageRecord]:
    """Link ``run`` to each artifact (created once per project; its summary is the latest given)."""
    now = now or utcnow()
    for record in records:
        state = _state(run.project_id, record.kind, record.name, record.path)
        artifact_id = session.scalar(
            dialect_insert(session, ArtifactRow)
            .values(
                project_id=run.project_id,
                state=state,
                name=record.name,
                kind=record.kind,
                path=record.path,
                summary=record.summary,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["state"], set_={"summary": record.summary, "updated_at": now}
            )
            .returning(ArtifactRow.id)
        )
        session.execute(
            dialect_insert(session, LineageRow)
            .values(run_id=run.id, artifact_id=artifact_id, is_input=record.is_input, created_at=now)
            .on_conflict_do_nothing()
        )
    return list_lineage(session, run.id)


def list_lineage(session: Session, run_id: int) -> list[LineageRecord]:
    rows = session.execute(
        select(ArtifactRow, LineageRow.is_input, LineageRow.created_at)
        .join(LineageRow, LineageRow.artifact_id == ArtifactRow.id)
        .where(LineageRow.run_id == run_id)
        .order_by(LineageRow.created_at, ArtifactRow.name)
    ).all()
    return [
        LineageRecord(a.name, a.kind, a.path, dict(a.summary or {}), bool(is_input), created_at)
        for a, is_input, created_at in rows
    ]
