"""When a schedule's ticks are due: pure functions of its spec (cron, interval, datetime) and a start.

- ``cron``: a cron expression (via ``croniter``: 5 fields, or 6 where the last is seconds), evaluated
  in a time zone: ``CRON_TZ=Europe/Paris 0 9 * * *`` (or ``TZ=...``), else the offset of ``startAt``,
  else UTC. Daylight-saving changes follow the zone (09:00 stays 09:00 local).
- ``interval``: every ``frequency`` from ``startAt`` (``startAt``, ``startAt + frequency``, ...).
- ``datetime``: once, at ``startAt``.

Without ``startAt`` a schedule starts when it was created. Naive datetimes are in the schedule's zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from mizzen.errors import CompileError
from mizzen.spec.schedules import split_cron_zone

_EPSILON = timedelta(microseconds=1)
MIN_FREQUENCY = timedelta(seconds=1)  # ticks are keyed by their due second


@dataclass(frozen=True)
class Timetable:
    kind: str  # cron | interval | datetime
    start: datetime  # aware
    end: datetime | None = None
    max_runs: int | None = None
    depends_on_past: bool = False
    cron: str | None = None  # without its CRON_TZ= prefix
    zone: tzinfo = UTC
    frequency: timedelta | None = None

    def first_at_or_after(self, moment: datetime) -> datetime | None:
        """The first due time at or after ``moment`` (never before ``start``), ignoring ``end``."""
        moment = max(moment, self.start)
        if self.kind == "datetime":
            return self.start if moment <= self.start else None
        if self.kind == "interval":
            assert self.frequency is not None
            steps = math.ceil((moment - self.start) / self.frequency)
            return self.start + steps * self.frequency
        return self._cron_next(moment - _EPSILON)

    def first_after(self, moment: datetime) -> datetime | None:
        return self.first_at_or_after(moment + _EPSILON)

    def latest_at_or_before(self, moment: datetime) -> datetime | None:
        """The last due time at or before ``moment`` (None before ``start``)."""
        if moment < self.start:
            return None
        if self.kind == "datetime":
            return self.start
        if self.kind == "interval":
            assert self.frequency is not None
            return self.start + ((moment - self.start) // self.frequency) * self.frequency
        from croniter import croniter

        previous = croniter(self.cron, (moment + _EPSILON).astimezone(self.zone)).get_prev(datetime)
        return previous.astimezone(UTC) if previous >= self.start else None

    def count_between(self, first: datetime, last: datetime, cap: int = 10_000) -> int:
        """How many due times lie in ``[first, last)`` (at most ``cap``): the ticks a late driver skips."""
        if last <= first:
            return 0
        if self.kind == "interval":
            assert self.frequency is not None
            return min(cap, math.ceil((last - first) / self.frequency))
        count, moment = 0, self.first_at_or_after(first)
        while moment is not None and moment < last and count < cap:
            count += 1
            moment = self.first_after(moment)
        return count

    def _cron_next(self, after: datetime) -> datetime:
        from croniter import croniter

        nxt: datetime = croniter(self.cron, after.astimezone(self.zone)).get_next(datetime)
        return nxt.astimezone(UTC)


def timetable_of(spec: Any, created_at: datetime) -> Timetable:
    """The timetable of a ``ScheduleSpec``; ``CompileError`` (naming the field) when it cannot run."""
    kind = spec.kind
    zone: tzinfo = UTC
    cron = None
    if kind == "cron":
        cron, zone_name = split_cron_zone(str(spec.cron))
        if zone_name is not None:
            zone = zone_named(zone_name)
        elif spec.start_at is not None and spec.start_at.tzinfo is not None:
            zone = spec.start_at.tzinfo
        check_cron(cron)
    start = _aware(spec.start_at, zone) if spec.start_at is not None else _aware(created_at, UTC)
    if kind == "datetime":
        return Timetable(kind, start)
    end = _aware(spec.end_at, zone) if spec.end_at is not None else None
    max_runs = _int(spec.max_runs, "maxRuns")
    if max_runs is not None and max_runs < 1:
        raise CompileError(f"schedule.maxRuns: {max_runs} ticks would never run anything; give 1 or more")
    depends = spec.depends_on_past
    if depends is not None and not isinstance(depends, bool):
        raise CompileError(f"schedule.dependsOnPast: {depends!r} is not true or false")
    frequency = None
    if kind == "interval":
        frequency = spec.frequency
        if not isinstance(frequency, timedelta):
            raise CompileError(f"schedule.frequency: {frequency!r} is not seconds or a duration (HH:MM:SS)")
        if frequency < MIN_FREQUENCY:
            raise CompileError(f"schedule.frequency: {frequency.total_seconds()}s is below 1 second")
    return Timetable(kind, start, end, max_runs, bool(depends), cron, zone, frequency)


def zone_named(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CompileError(
            f"schedule.cron: unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC"
        ) from None


def check_cron(expression: str) -> None:
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise CompileError(
            f"schedule.cron: {expression!r} is not a cron expression; write 5 fields (minute hour "
            "day-of-month month day-of-week, e.g. '0 9 * * MON-FRI') or 6 with seconds last"
        )


def _aware(moment: datetime, zone: tzinfo) -> datetime:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)


def _int(value: Any, field: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    raise CompileError(f"schedule.{field}: {value!r} is not a whole number")
