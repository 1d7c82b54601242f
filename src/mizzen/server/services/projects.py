"""Projects: thin checks around the store, and artifact clean-up after a project is deleted."""

from __future__ import annotations

from collections.abc import Callable

from mizzen.schemas.api import ProjectCreate, ProjectRead, ProjectUpdate
from mizzen.server.services import convert
from mizzen.server.services.validation import check_fields
from mizzen.store import Database
from mizzen.store.gateway import projects as gateway
from mizzen.store.records import ProjectActivity


class ProjectService:
    def __init__(self, db: Database, on_runs_deleted: Callable[[str, list[str]], None]) -> None:
        self.db = db
        self._on_runs_deleted = on_runs_deleted

    def create(self, body: ProjectCreate) -> ProjectRead:
        check_fields(body, ("description", "tags"))
        return convert.project_read(gateway.create_project(self.db, body.name, body.description, body.tags))

    def list_all(self) -> list[ProjectRead]:
        return [convert.project_read(record) for record in gateway.list_projects(self.db)]

    def activity(self) -> list[ProjectActivity]:
        """Every project with its runs counted by status and its last activity (the UI's front page)."""
        return gateway.project_activity(self.db)

    def get(self, name: str) -> ProjectRead:
        return convert.project_read(gateway.get_project(self.db, name))

    def update(self, name: str, body: ProjectUpdate) -> ProjectRead:
        check_fields(body, ("description", "tags"))
        record = gateway.update_project(self.db, name, description=body.description, tags=body.tags)
        return convert.project_read(record)

    def delete(self, name: str) -> None:
        uuids = gateway.delete_project(self.db, name)
        self._on_runs_deleted(name, uuids)  # after the commit: files and events
