from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from mizzen.schemas.api import AgentClaim, AgentHeartbeat, AgentRead, AgentRun, AgentStops
from mizzen.server.auth import require_server_token
from mizzen.server.responses import model_response, models_response, services
from mizzen.server.services.agents import AgentService

router = APIRouter(prefix="/agents", tags=["agents"], dependencies=[Depends(require_server_token)])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="Retry a claim safely: same key, same runs."),
]


def agents(request: Request) -> AgentService:
    return services(request).agents


@router.post("/{name}/heartbeat", response_model=AgentRead)
def heartbeat(request: Request, name: str, body: AgentHeartbeat) -> Response:
    return model_response(agents(request).heartbeat(name, body))


@router.get("", response_model=list[AgentRead])
def list_agents(request: Request) -> Response:
    return models_response(agents(request).list_agents())


@router.post("/{name}/claim", response_model=list[AgentRun])
def claim(request: Request, name: str, body: AgentClaim, idempotency_key: IdempotencyKey = None) -> Response:
    return models_response(agents(request).claim(name, body, idempotency_key))


@router.post("/{name}/stops", response_model=list[str])
def stops(request: Request, name: str, body: AgentStops) -> JSONResponse:
    return JSONResponse(agents(request).stops(name, body))


@router.get("/{name}/runs", response_model=list[AgentRun])
def owned_runs(request: Request, name: str, executor: str = "kubernetes") -> Response:
    return models_response(agents(request).owned(name, executor))


@router.post("/{name}/runs/{uuid}/token", response_model=AgentRun)
def reissue_token(request: Request, name: str, uuid: str) -> Response:
    return model_response(agents(request).reissue_token(name, uuid))
