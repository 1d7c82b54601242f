"""Projects: ``/projects``."""

from __future__ import annotations

import builtins

from pydantic import TypeAdapter

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import ProjectCreate, ProjectRead, ProjectUpdate

_PROJECT_LIST = TypeAdapter(list[ProjectRead])


class ProjectsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, name: str, description: str | None = None, tags: builtins.list[str] | None = None
    ) -> ProjectRead:
        body = ProjectCreate(name=name, description=description, tags=tags or [])
        return ProjectRead.model_validate(self._t.post("/projects", json=body.model_dump(mode="json")).json())

    def list(self) -> builtins.list[ProjectRead]:
        return _PROJECT_LIST.validate_python(self._t.get("/projects").json())

    def get(self, name: str) -> ProjectRead:
        return ProjectRead.model_validate(self._t.get(f"/projects/{path_segment(name)}").json())

    def update(
        self, name: str, description: str | None = None, tags: builtins.list[str] | None = None
    ) -> ProjectRead:
        body = ProjectUpdate(description=description, tags=tags).model_dump(mode="json", exclude_none=True)
        return ProjectRead.model_validate(self._t.patch(f"/projects/{path_segment(name)}", json=body).json())

    def delete(self, name: str) -> None:
        self._t.delete(f"/projects/{path_segment(name)}")
