"""``schedule``: run an operation on a cron, on an interval, or once at a date."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from mizzen.spec.base import Duration, SpecModel, Str, TplBool, TplInt


def split_cron_zone(expression: str) -> tuple[str, str | None]:
    """``"CRON_TZ=Europe/Paris 0 9 * * *"`` -> (``"0 9 * * *"``, ``"Europe/Paris"``); no prefix: UTC."""
    text = expression.strip()
    head, _, rest = text.partition(" ")
    for prefix in ("CRON_TZ=", "TZ="):
        if head.startswith(prefix):
            return rest.strip(), head[len(prefix) :]
    return text, None


class CronScheduleSpec(SpecModel):
    kind: Literal["cron"]
    cron: Str
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: TplInt | None = None
    depends_on_past: TplBool | None = None

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from croniter import croniter  # only when a schedule is read

        expression, zone = split_cron_zone(value)
        if not croniter.is_valid(expression):
            raise PydanticCustomError(
                "mizzen_cron",
                "'{cron}' is not a cron expression: write 5 fields (minute hour day-of-month month "
                "day-of-week, e.g. '0 9 * * MON-FRI') or 6 with seconds last; "
                "prefix 'CRON_TZ=Europe/Paris ' for a time zone",
                {"cron": expression},
            )
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise PydanticCustomError(
                    "mizzen_cron",
                    "unknown time zone '{zone}': use an IANA name such as Europe/Paris or UTC",
                    {"zone": zone},
                ) from None
        return value


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
