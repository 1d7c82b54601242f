"""Metrics: batch ingest (validated, idempotent with a client key), history, summaries."""

from __future__ import annotations

import itertools
import math

from mizzen.errors import InvalidInput
from mizzen.schemas.api import MetricHistory, MetricsBatch, MetricSummary
from mizzen.server.services import convert
from mizzen.server.services.downsample import downsample_indices
from mizzen.server.services.validation import INT64
from mizzen.store import Database
from mizzen.store.gateway import metrics as gateway
from mizzen.store.records import PointTuple

MAX_NAME = 255


def _points(batch: MetricsBatch) -> list[PointTuple]:
    """The batch as store points, or ``InvalidInput`` naming the first bad point's field.

    Whole-batch checks first (fast for the usual, valid batch); the point-by-point search for the
    culprit runs only when one fails.
    """
    points: list[PointTuple] = [(p.name, p.step, p.timestamp, p.value) for p in batch.points]
    for series in batch.series:
        column = series.steps if series.steps is not None else itertools.repeat(None)
        points += zip(itertools.repeat(series.name), column, series.timestamps, series.values)
    names, all_steps, timestamps, values = zip(*points, strict=True) if points else ((), (), (), ())
    steps = [step for step in all_steps if step is not None]
    valid = (
        all(name and len(name) <= MAX_NAME and "\x00" not in name for name in set(names))
        and all(map(math.isfinite, values))
        and all(map(math.isfinite, timestamps))
        and (not steps or (min(steps) >= -INT64 and max(steps) < INT64))
    )
    if not valid:
        _raise_for_first_bad_point(points, _fields(batch))
    return points


def _fields(batch: MetricsBatch) -> list[str]:
    """The request field of each point, in the order ``_points`` lists them."""
    fields = [f"points[{index}]" for index in range(len(batch.points))]
    for number, series in enumerate(batch.series):
        fields += (f"series[{number}][{index}]" for index in range(len(series.values)))
    return fields


def _raise_for_first_bad_point(points: list[PointTuple], fields: list[str]) -> None:
    for field, (name, step, timestamp, value) in zip(fields, points, strict=True):
        if not name or len(name) > MAX_NAME or "\x00" in name:
            raise InvalidInput(f"a metric name has 1 to {MAX_NAME} characters, no NUL", f"{field}.name")
        if not math.isfinite(value):
            raise InvalidInput(
                f"metric values must be finite numbers (got {value}); drop NaN/infinity before sending",
                f"{field}.value",
            )
        if not math.isfinite(timestamp):
            raise InvalidInput("timestamps must be finite numbers", f"{field}.timestamp")
        if step is not None and not -INT64 <= step < INT64:
            raise InvalidInput("steps must fit in 64 bits", f"{field}.step")


class MetricService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def ingest(self, run_uuid: str, batch: MetricsBatch, idempotency_key: str | None = None) -> int:
        points = _points(batch)
        key = f"metrics:{run_uuid}:{idempotency_key}" if idempotency_key else None
        return gateway.ingest(self.db, run_uuid, points, idempotency_key=key)

    def summaries(self, run_uuid: str) -> list[MetricSummary]:
        return [convert.summary(record) for record in gateway.summaries(self.db, run_uuid)]

    def history(self, run_uuid: str, name: str, max_points: int | None = None) -> MetricHistory:
        steps, timestamps, values = gateway.history(self.db, run_uuid, name)
        downsampled = max_points is not None and len(values) > max_points
        if downsampled and max_points is not None:
            keep = downsample_indices(values, max_points)
            steps = [steps[i] for i in keep]
            timestamps = [timestamps[i] for i in keep]
            values = [values[i] for i in keep]
        return MetricHistory.model_construct(
            name=name, steps=steps, timestamps=timestamps, values=values, downsampled=downsampled
        )
