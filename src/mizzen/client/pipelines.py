"""Pipelines (sweeps, DAGs, schedules): ``/runs/{uuid}/pipeline`` (progress in one call) and
``/runs/{uuid}/pipeline/children`` (a page of children with one metric)."""

from __future__ import annotations

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.pipeline_api import PipelineChildren, PipelineRead


class PipelinesApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, uuid: str, metric: str | None = None, optimization: str | None = None) -> PipelineRead:
        """Children per status, the best child by ``metric`` (default: the sweep's), a DAG's ops."""
        params = {"metric": metric, "optimization": optimization}
        return PipelineRead.model_validate(self._t.get(_pipeline(uuid), params=params).json())

    def children(
        self,
        uuid: str,
        metric: str | None = None,
        optimization: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> PipelineChildren:
        """A page of children; ``sort``: ``metric`` (best first), ``-metric`` or ``created``."""
        params = {
            "metric": metric,
            "optimization": optimization,
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        answer = self._t.get(f"{_pipeline(uuid)}/children", params=params)
        return PipelineChildren.model_validate(answer.json())


def _pipeline(uuid: str) -> str:
    return f"/runs/{path_segment(uuid)}/pipeline"
