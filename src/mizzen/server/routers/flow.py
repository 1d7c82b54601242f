"""Approvals and the run cache: ``POST /runs/{uuid}/approve``, ``POST /runs/{uuid}/invalidate``
(the server's token only), and an agent's cache check before it starts a run."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from mizzen.schemas.api import RunRead
from mizzen.schemas.flow import CacheAnswer, CacheCheck, CacheInvalidation
from mizzen.server.auth import require_server_token
from mizzen.server.responses import model_response, services
from mizzen.server.services.flow import FlowService

router = APIRouter(tags=["flow"])
agent_router = APIRouter(prefix="/agents", tags=["agents"], dependencies=[Depends(require_server_token)])


def flow(request: Request) -> FlowService:
    found = services(request)
    return FlowService(found.database, found.events)


@router.post("/runs/{uuid}/approve", response_model=RunRead)
def approve(request: Request, uuid: str) -> Response:
    """Let a run (or a pipeline) held by `isApproved: false` start."""
    return model_response(flow(request).approve(uuid))


@router.post("/runs/{uuid}/invalidate", response_model=CacheInvalidation)
def invalidate(request: Request, uuid: str) -> Response:
    """Drop a run (a pipeline: its runs too) from the cache: no later run reuses its outputs."""
    return model_response(flow(request).invalidate(uuid))


@agent_router.post("/{name}/runs/{uuid}/cache", response_model=CacheAnswer)
def check_cache(request: Request, name: str, uuid: str, body: CacheCheck) -> Response:
    """Record a run's cache key; a hit ends the run `skipped` (it reuses that run's outputs)."""
    return model_response(flow(request).check_cache(uuid, body))
