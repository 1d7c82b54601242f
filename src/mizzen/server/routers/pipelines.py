"""A pipeline's progress and children (sweeps, DAGs, schedules): see mizzen.schemas.pipeline_api."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mizzen.schemas.pipeline_api import PipelineChildren, PipelineRead
from mizzen.server.responses import model_response, services

router = APIRouter(prefix="/runs", tags=["pipelines"])

Metric = Annotated[str | None, Query(max_length=255, description="A metric to rank children by, e.g. loss")]
Optimization = Annotated[
    str | None, Query(description="minimize or maximize (default: the sweep's, else minimize)")
]


@router.get("/{uuid}/pipeline", response_model=PipelineRead)
def read_pipeline(
    request: Request, uuid: str, metric: Metric = None, optimization: Optimization = None
) -> Response:
    """Progress in one call: children per status, the best child by the metric, a DAG's ops."""
    return model_response(services(request).pipelines.read(uuid, metric, optimization))


@router.get("/{uuid}/pipeline/children", response_model=PipelineChildren)
def list_children(
    request: Request,
    uuid: str,
    metric: Metric = None,
    optimization: Optimization = None,
    sort: Annotated[str | None, Query(description="metric (best first), -metric, created")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    """A page of the children with their params, status and the metric's last value."""
    body = services(request).pipelines.children(uuid, metric, optimization, sort, limit, offset)
    return model_response(body)
