"""Projects: thin checks around the store, and artifact clean-up after a project is deleted."""

from __future__ import annotations

from collections.abc import Callable

from mizzen.schemas.api import ProjectCreate, ProjectRead, ProjectUpdate
from mizzen.server.services import convert
from mizzen.server.services.validation import check_fields
from mizzen.store import Database
from mizzen.store.repos import projects as repo


class ProjectService:
    def __init__(self, db: Database, on_runs_deleted: Callable[[str, list[str]], None]) -> None:
        self.db = db
        self._on_runs_deleted = on_runs_deleted

    def create(self, body: ProjectCreate) -> ProjectRead:
        check_fields(body, ("description", "tags"))
        with self.db.write() as session:
            row = repo.create_project(session, body.name, body.description, body.tags)
            return convert.project_read(row, 0)

    def list_all(self) -> list[ProjectRead]:
        with self.db.read() as session:
            return [convert.project_read(row, n) for row, n in repo.list_projects(session)]

    def get(self, name: str) -> ProjectRead:
        with self.db.read() as session:
            row = repo.get_project(session, name)
            return convert.project_read(row, repo.count_runs(session, row.id))

    def update(self, name: str, body: ProjectUpdate) -> ProjectRead:
        check_fields(body, ("description", "tags"))
        with self.db.write() as session:
            row = repo.update_project(session, name, description=body.description, tags=body.tags)
            return convert.project_read(row, repo.count_runs(session, row.id))

    def delete(self, name: str) -> None:
        with self.db.write() as session:
            uuids = repo.delete_project(session, name)
        self._on_runs_deleted(name, uuids)  # after the commit: files and events
