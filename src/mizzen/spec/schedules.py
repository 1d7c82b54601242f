"""``schedule``: run an operation on a cron, on an interval, or once at a date."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from mizzen.spec.base import Duration, SpecModel, Str, TplBool, TplInt


class CronScheduleSpec(SpecModel):
    kind: Literal["cron"]
    cron: Str
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: TplInt | None = None
    depends_on_past: TplBool | None = None


class IntervalScheduleSpec(SpecModel):
    kind: Literal["interval"]
    frequency: Duration
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: TplInt | None = None
    depends_on_past: TplBool | None = None


class DateTimeScheduleSpec(SpecModel):
    kind: Literal["datetime"]
    start_at: datetime


ScheduleSpec = Annotated[
    CronScheduleSpec | IntervalScheduleSpec | DateTimeScheduleSpec, Field(discriminator="kind")
]
