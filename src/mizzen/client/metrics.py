"""Metrics: batch ingest, summaries and histories (``/runs/{uuid}/metrics``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from mizzen.client.http import Transport, accepted_count, path_segment
from mizzen.schemas.api import MetricHistory, MetricPoint, MetricSeries, MetricSummary

_SUMMARIES = TypeAdapter(list[MetricSummary])


class MetricsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def log(
        self, uuid: str, points: Sequence[MetricPoint | dict[str, Any]], idempotency_key: str | None = None
    ) -> int:
        """Sends one batch; returns how many points the server accepted.

        Plain dicts (``name``, ``value``, ``step``, ``timestamp``) are sent as they are: the server
        validates them, and the tracking client saves building a model per point. With
        ``idempotency_key``, the server stores a repeated batch only once.
        """
        body = {"points": [p.model_dump(mode="json") if isinstance(p, MetricPoint) else p for p in points]}
        return self._post(uuid, body, idempotency_key, len(points))

    def log_series(
        self, uuid: str, series: Sequence[MetricSeries | dict[str, Any]], idempotency_key: str | None = None
    ) -> int:
        """Sends many points as columns, one series per metric name (far cheaper than ``log``'s
        point objects to encode, send and validate); returns how many points were accepted."""
        body = {"series": [s.model_dump(mode="json") if isinstance(s, MetricSeries) else s for s in series]}
        sent = sum(len(s.values if isinstance(s, MetricSeries) else s["values"]) for s in series)
        return self._post(uuid, body, idempotency_key, sent)

    def _post(self, uuid: str, body: dict[str, Any], idempotency_key: str | None, sent: int) -> int:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._t.post(f"/runs/{path_segment(uuid)}/metrics", json=body, headers=headers)
        return accepted_count(response, sent)

    def summaries(self, uuid: str) -> list[MetricSummary]:
        return _SUMMARIES.validate_python(self._t.get(f"/runs/{path_segment(uuid)}/metrics").json())

    def history(self, uuid: str, name: str, max_points: int | None = None) -> MetricHistory:
        """The whole history of one metric (downsampled by the server when ``max_points`` is set)."""
        path = f"/runs/{path_segment(uuid)}/metrics/{path_segment(name)}"
        # One pass in pydantic's parser: for 100,000 points, twice as fast as json() then validate.
        return MetricHistory.model_validate_json(self._t.get(path, params={"max_points": max_points}).content)
