from __future__ import annotations

from fastapi import APIRouter, Request, Response

from mizzen.schemas.api import ProjectCreate, ProjectRead, ProjectUpdate
from mizzen.server.responses import model_response, models_response, services

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", response_model=ProjectRead, status_code=201)
def create_project(request: Request, body: ProjectCreate) -> Response:
    return model_response(services(request).projects.create(body), 201)


@router.get("", response_model=list[ProjectRead])
def list_projects(request: Request) -> Response:
    return models_response(services(request).projects.list_all())


@router.get("/{name}", response_model=ProjectRead)
def get_project(request: Request, name: str) -> Response:
    return model_response(services(request).projects.get(name))


@router.patch("/{name}", response_model=ProjectRead)
def update_project(request: Request, name: str, body: ProjectUpdate) -> Response:
    return model_response(services(request).projects.update(name, body))


@router.delete("/{name}", status_code=204)
def delete_project(request: Request, name: str) -> Response:
    services(request).projects.delete(name)
    return Response(status_code=204)
