from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mizzen.schemas.api import MetricHistory, MetricsBatch, MetricSummary
from mizzen.server.responses import model_response, models_response, services
from mizzen.server.routers.runs import IdempotencyKey

router = APIRouter(prefix="/runs/{uuid}/metrics", tags=["metrics"])


@router.post("")
def log_metrics(
    request: Request, uuid: str, body: MetricsBatch, idempotency_key: IdempotencyKey = None
) -> dict[str, int]:
    return {"accepted": services(request).metrics.ingest(uuid, body, idempotency_key)}


@router.get("", response_model=list[MetricSummary])
def metric_summaries(request: Request, uuid: str) -> Response:
    return models_response(services(request).metrics.summaries(uuid))


@router.get("/{name:path}", response_model=MetricHistory)
def metric_history(
    request: Request,
    uuid: str,
    name: str,
    max_points: Annotated[int | None, Query(ge=2, le=1_000_000)] = None,
) -> Response:
    return model_response(services(request).metrics.history(uuid, name, max_points))
