from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from mizzen.schemas.api import (
    CloneRequest,
    RunCreate,
    RunList,
    RunRead,
    RunUpdate,
    StatusCondition,
    StatusUpdate,
)
from mizzen.server import auth
from mizzen.server.responses import model_response, models_response, services

router = APIRouter(prefix="/runs", tags=["runs"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=128, description="Repeat a request safely: same key, same run."
    ),
]


@router.post("", response_model=RunRead, status_code=201)
def create_run(request: Request, body: RunCreate, idempotency_key: IdempotencyKey = None) -> Response:
    auth.check_create(request, body)
    return model_response(services(request).runs.create(body, idempotency_key), 201)


@router.get("", response_model=RunList)
def list_runs(
    request: Request,
    project: str | None = None,
    query: Annotated[str | None, Query(description="e.g. status:running|failed, metrics.loss:<0.5")] = None,
    sort: Annotated[str | None, Query(description="e.g. -created_at, metrics.loss")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    body = services(request).runs.search_json(project, query, sort, limit, offset)
    return Response(body, media_type="application/json")


@router.get("/{uuid}", response_model=RunRead)
def get_run(request: Request, uuid: str) -> Response:
    return model_response(services(request).runs.get(uuid))


@router.patch("/{uuid}", response_model=RunRead)
def update_run(request: Request, uuid: str, body: RunUpdate) -> Response:
    auth.check_update(request, body.model_fields_set)
    return model_response(services(request).runs.update(uuid, body))


@router.delete("/{uuid}", status_code=204)
def delete_run(request: Request, uuid: str) -> Response:
    services(request).runs.delete(uuid)
    return Response(status_code=204)


@router.post("/{uuid}/statuses", response_model=RunRead)
def set_status(request: Request, uuid: str, body: StatusUpdate) -> Response:
    return model_response(services(request).runs.set_status(uuid, body))


@router.get("/{uuid}/statuses", response_model=list[StatusCondition])
def list_statuses(request: Request, uuid: str) -> Response:
    return models_response(services(request).runs.conditions(uuid))


@router.post("/{uuid}/stop", response_model=RunRead)
def stop_run(request: Request, uuid: str) -> Response:
    return model_response(services(request).runs.stop(uuid))


@router.post("/{uuid}/restart", response_model=RunRead)
def restart_run(request: Request, uuid: str, body: CloneRequest | None = None) -> Response:
    return model_response(services(request).runs.clone(uuid, "restart", body))


@router.post("/{uuid}/resume", response_model=RunRead)
def resume_run(request: Request, uuid: str, body: CloneRequest | None = None) -> Response:
    return model_response(services(request).runs.clone(uuid, "resume", body))


@router.post("/{uuid}/copy", response_model=RunRead)
def copy_run(request: Request, uuid: str, body: CloneRequest | None = None) -> Response:
    return model_response(services(request).runs.clone(uuid, "copy", body))
