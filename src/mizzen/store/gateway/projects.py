"""Projects: create, read, update, delete, each with its number of runs."""

from __future__ import annotations

from collections.abc import Sequence

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import project_record
from mizzen.store.records import ProjectActivity, ProjectRecord
from mizzen.store.repos import projects as repo


def create_project(
    db: Database, name: str, description: str | None = None, tags: Sequence[str] = ()
) -> ProjectRecord:
    """A new project (``Conflict`` when the name is taken)."""
    with write_session(db) as session:
        return project_record(repo.create_project(session, name, description, tags), 0)


def list_projects(db: Database) -> list[ProjectRecord]:
    """Every project with its number of runs, by name."""
    with read_session(db) as session:
        return [project_record(row, n) for row, n in repo.list_projects(session)]


def project_activity(db: Database) -> list[ProjectActivity]:
    """Every project with its runs counted by status and its last activity, by name (one query)."""
    with read_session(db) as session:
        rows = repo.activity(session)
    found: dict[str, ProjectActivity] = {}
    for name, description, status, count, last in rows:
        project = found.setdefault(name, ProjectActivity(name, description, {}, None))
        if status is None:
            continue
        project.runs_by_status[RunStatus(status)] = count
        if last is not None and (project.last_activity is None or last > project.last_activity):
            found[name] = ProjectActivity(name, description, project.runs_by_status, last)
    return list(found.values())


def get_project(db: Database, name: str) -> ProjectRecord:
    with read_session(db) as session:
        row = repo.get_project(session, name)
        return project_record(row, repo.count_runs(session, row.id))


def update_project(
    db: Database, name: str, *, description: str | None = None, tags: Sequence[str] | None = None
) -> ProjectRecord:
    """Replace the description and/or tags that are given (the others stay)."""
    with write_session(db) as session:
        row = repo.update_project(session, name, description=description, tags=tags)
        return project_record(row, repo.count_runs(session, row.id))


def delete_project(db: Database, name: str) -> list[str]:
    """Delete the project and its runs; returns the runs' uuids, for the caller to remove their
    artifacts once this call (and its transaction) has returned."""
    with write_session(db) as session:
        return repo.delete_project(session, name)
