"""Projects."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mizzen.errors import Conflict, NotFound
from mizzen.store.clock import utcnow
from mizzen.store.orm import ProjectRow, RunRow
from mizzen.store.repos._upsert import dialect_insert


def create_project(
    session: Session,
    name: str,
    description: str | None = None,
    tags: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> ProjectRow:
    if find_project(session, name) is not None:
        raise Conflict(f"project '{name}' already exists")
    now = now or utcnow()
    row = ProjectRow(
        uuid=uuidlib.uuid4().hex,
        name=name,
        description=description,
        tags=list(tags),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_project(session: Session, name: str) -> ProjectRow | None:
    return session.scalars(select(ProjectRow).where(ProjectRow.name == name)).one_or_none()


def get_project(session: Session, name: str) -> ProjectRow:
    row = find_project(session, name)
    if row is None:
        raise NotFound(f"project '{name}' not found")
    return row


def ensure_project(session: Session, name: str, *, now: datetime | None = None) -> ProjectRow:
    """The project called ``name``, created if missing (safe when two writers race to create it)."""
    row = find_project(session, name)
    if row is not None:
        return row
    now = now or utcnow()
    values = {"uuid": uuidlib.uuid4().hex, "name": name, "tags": [], "created_at": now, "updated_at": now}
    session.execute(dialect_insert(session, ProjectRow).values(values).on_conflict_do_nothing())
    return get_project(session, name)


def list_projects(session: Session) -> list[tuple[ProjectRow, int]]:
    """Every project with its number of runs, by name."""
    counts = select(RunRow.project_id, func.count().label("n")).group_by(RunRow.project_id).subquery()
    rows = session.execute(
        select(ProjectRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.project_id == ProjectRow.id)
        .order_by(ProjectRow.name)
    ).all()
    return [(project, int(n)) for project, n in rows]


def activity(session: Session) -> list[tuple[str, str | None, str | None, int, datetime | None]]:
    """(project, description, status, runs, last update) for each project and status of its runs,
    by project name; a project without runs has one row with status None."""
    rows = session.execute(
        select(
            ProjectRow.name,
            ProjectRow.description,
            RunRow.status,
            func.count(RunRow.id),
            func.max(RunRow.updated_at),
        )
        .outerjoin(RunRow, RunRow.project_id == ProjectRow.id)
        .group_by(ProjectRow.id, ProjectRow.name, ProjectRow.description, RunRow.status)
        .order_by(ProjectRow.name)
    ).all()
    return [(name, description, status, int(n), last) for name, description, status, n, last in rows]


def count_runs(session: Session, project_id: int) -> int:
    return (
        session.scalar(select(func.count()).select_from(RunRow).where(RunRow.project_id == project_id)) or 0
    )


def update_project(
    session: Session,
    name: str,
    *,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    now: datetime | None = None,
) -> ProjectRow:
    row = get_project(session, name)
    if description is not None:
        row.description = description
    if tags is not None:
        row.tags = list(tags)
    row.updated_at = now or utcnow()
    session.flush()
    return row


def delete_project(session: Session, name: str) -> list[str]:
    """Delete the project; its runs (and their metrics, statuses, lineage) cascade. Returns the
    runs' uuids so that the caller can remove their artifacts once the transaction has committed."""
    row = get_project(session, name)
    uuids = list(session.scalars(select(RunRow.uuid).where(RunRow.project_id == row.id)))
    session.execute(delete(ProjectRow).where(ProjectRow.id == row.id))
    return uuids
