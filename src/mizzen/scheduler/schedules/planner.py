"""The planner of a schedule: each due time becomes one child run, a *tick*, keyed by that time.

Pure, like every planner: it reads the ticks that exist (children keyed ``tick-20261207T100000Z``)
and the time now, and answers the tick to create, if one is due, and when to wake next
(``Step.wake_at``). A driver that restarts, or two drivers at once, compute the same key for the
same due time, and the store creates a key once: a tick is never fired twice, and one that was due
while no driver ran is fired when one runs again.

Policies (docs/schedules.md):
- Missed ticks (nothing drove the schedule when they were due): only the latest missed one runs, at
  once; the earlier ones are skipped and counted (``missed`` in the tick's meta and the progress).
  This is Airflow's ``catchup=False`` and what Polyaxon does after a restart.
- ``dependsOnPast``: a tick is not created while the previous one is unfinished (the due times that
  pass meanwhile follow the missed-tick policy: the latest fires when the previous succeeds). A
  previous tick that did not succeed (failed, stopped, upstream_failed) ends the schedule ``failed``:
  later ticks would depend on a past that did not happen. ``skipped`` (a cache hit) counts as success.
- The schedule ends when no tick is left (``maxRuns`` created, ``endAt`` passed, or a ``datetime``
  fired) and its ticks are done: ``succeeded`` when every tick succeeded, else ``failed``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Step
from mizzen.scheduler.pipeline.structure import Structure
from mizzen.scheduler.schedules.timetable import Timetable, timetable_of
from mizzen.schemas.pipelines import TICK_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.records import ChildRecord

_KEY_FORMAT = "%Y%m%dT%H%M%SZ"
_OK = frozenset({RunStatus.SUCCEEDED, RunStatus.SKIPPED})


def tick_key(due: datetime) -> str:
    return f"tick-{due.astimezone(UTC).strftime(_KEY_FORMAT)}"


def due_of(child: ChildRecord) -> datetime | None:
    """When the tick ``child`` was due (from its meta, else its key)."""
    due = (child.meta.get(TICK_KEY) or {}).get("due")
    if due:
        return datetime.fromisoformat(due).astimezone(UTC)
    if child.key and child.key.startswith("tick-"):
        return datetime.strptime(child.key[5:], _KEY_FORMAT).replace(tzinfo=UTC)
    return None


class SchedulePlanner:
    def metrics(self, structure: Structure) -> list[str]:
        return []

    def histories(self, structure: Structure) -> list[str]:
        return []

    def step(self, view: PipelineView) -> Step:
        created = view.pipeline.created_at or view.now
        table = timetable_of(view.structure.schedule, _utc(created))
        ticks = sorted(
            ((due, child) for child in view.children if (due := due_of(child)) is not None),
            key=lambda pair: pair[0],
        )
        now = _utc(view.now)
        last = ticks[-1] if ticks else None
        candidate = table.first_after(last[0]) if last else table.first_at_or_after(table.start)
        exhausted = (
            candidate is None
            or (table.max_runs is not None and len(ticks) >= table.max_runs)
            or (table.end is not None and candidate > table.end)
        )
        progress = _progress(table, ticks, None if exhausted else candidate)
        if exhausted:
            progress["ended"] = _why_no_tick_left(table, len(ticks))
            return self._wind_up(ticks, progress)
        assert candidate is not None
        if candidate > now:
            return Step(progress=progress, wake_at=candidate)
        if table.depends_on_past and last is not None:
            previous = last[1]
            if previous.status not in DONE_STATUSES:
                progress["waiting"] = f"dependsOnPast: waiting for {previous.key} to finish"
                return Step(progress=progress)
            if previous.status not in _OK:
                return Step(
                    progress=progress,
                    finish=Finish(
                        RunStatus.FAILED,
                        "PreviousTickFailed",
                        f"{previous.key} ended {previous.status.value} and the schedule has dependsOnPast: "
                        "no later tick runs",
                    ),
                )
        due = table.latest_at_or_before(now if table.end is None else min(now, table.end))
        assert due is not None and due >= candidate
        tick = self._tick(view, table, due, index=len(ticks) + 1, missed=table.count_between(candidate, due))
        progress["ticks"] += 1
        following = table.first_after(due)
        ends = (table.max_runs is not None and len(ticks) + 1 >= table.max_runs) or following is None
        ends = ends or (table.end is not None and following is not None and following > table.end)
        progress["next_at"] = None if ends else _iso(following)
        if ends:
            progress["ended"] = _why_no_tick_left(table, len(ticks) + 1)
        progress["missed"] += tick.meta[TICK_KEY]["missed"]
        return Step(create=[tick], progress=progress, wake_at=None if ends else following)

    def _tick(
        self, view: PipelineView, table: Timetable, due: datetime, *, index: int, missed: int
    ) -> NewChild:
        base = view.pipeline.name or "schedule"
        return NewChild(
            key=tick_key(due),
            kind=view.structure.child_kind,
            name=f"{base}-{index}",
            params=dict(view.pipeline.params),
            meta={TICK_KEY: {"due": _iso(due), "index": index, "missed": missed}},
        )

    def _wind_up(self, ticks: list[tuple[datetime, ChildRecord]], progress: dict[str, Any]) -> Step:
        if any(child.status not in DONE_STATUSES for _, child in ticks):
            return Step(progress=progress)
        ok = sum(1 for _, child in ticks if child.status in _OK)
        if not ticks:
            finish = Finish(RunStatus.SUCCEEDED, "ScheduleDone", "no tick was due before endAt")
        elif ok == len(ticks):
            finish = Finish(RunStatus.SUCCEEDED, "ScheduleDone", f"{ok} of {len(ticks)} ticks succeeded")
        else:
            finish = Finish(RunStatus.FAILED, "ScheduleDone", f"{ok} of {len(ticks)} ticks succeeded")
        return Step(progress=progress, finish=finish)


def _progress(
    table: Timetable, ticks: list[tuple[datetime, ChildRecord]], next_at: datetime | None
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for _, child in ticks:
        counts[child.status.value] = counts.get(child.status.value, 0) + 1
    return {
        "kind": "schedule",
        "schedule": table.kind,
        "cron": table.cron,
        "zone": getattr(table.zone, "key", None) or str(table.zone),
        "frequency": table.frequency.total_seconds() if table.frequency is not None else None,
        "start_at": _iso(table.start),
        "end_at": _iso(table.end),
        "ticks": len(ticks),
        "max_runs": table.max_runs,
        "statuses": counts,
        "last_tick": ticks[-1][1].key if ticks else None,
        "next_at": _iso(next_at) if next_at is not None else None,
        "missed": sum(int((child.meta.get(TICK_KEY) or {}).get("missed") or 0) for _, child in ticks),
    }


def _why_no_tick_left(table: Timetable, ticks: int) -> str:
    """Why a schedule fires nothing more (said by `mizzen ops get`)."""
    if table.kind == "datetime":
        return "its one tick (kind datetime) is fired"
    if table.max_runs is not None and ticks >= table.max_runs:
        return f"maxRuns {table.max_runs} reached"
    if table.end is not None:
        return f"endAt {_iso(table.end)} passed"
    return "no due time is left"


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None
