"""Schedules driven by the real pipeline driver over the real store (SQLite and PostgreSQL) on a
fake clock: ticks fire when due, are keyed by their due time (a restart or a second driver never
fires one twice), missed ticks follow the catch-up=False policy, and the schedule ends as documented."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mizzen.compiler.compile import Compiler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.schemas.pipelines import TICK_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database, open_database
from mizzen.store.gateway import pipelines, run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import ChildRecord, NewRun

START = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def spec(schedule: dict[str, Any], run: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "schedule": schedule,
        "component": {"run": run or {"kind": "job", "container": {"image": "x", "command": ["true"]}}},
        **extra,
    }


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = open_database(db_url)
    yield db
    db.dispose()


def make_driver(database: Database, clock: FakeClock) -> PipelineDriver:
    return PipelineDriver(database, lambda _run: Compiler(), executor="local", clock=clock)


def create_schedule(database: Database, schedule: dict[str, Any], **extra: Any) -> str:
    issued = run_changes.create_run(
        database, NewRun(name="nightly", kind="schedule", spec=spec(schedule, **extra), executor="local")
    )
    return issued.detail.run.uuid


def ticks(database: Database, uuid: str) -> list[ChildRecord]:
    return sorted(pipelines.children(database, uuid), key=lambda c: c.key or "")


def finish(database: Database, child: ChildRecord, status: RunStatus = RunStatus.SUCCEEDED) -> None:
    for step in (RunStatus.RUNNING, status):
        statuses.set_status(database, child.uuid, step)


def test_an_interval_schedule_fires_each_tick_when_due_and_succeeds_after_max_runs(
    database: Database,
) -> None:
    clock = FakeClock(START)
    uuid = create_schedule(
        database, {"kind": "interval", "frequency": 60, "startAt": START.isoformat(), "maxRuns": 3}
    )
    driver = make_driver(database, clock)
    driver.tick()
    first = ticks(database, uuid)
    assert [c.key for c in first] == ["tick-20261207T100000Z"]
    assert first[0].meta[TICK_KEY] == {"due": START.isoformat(), "index": 1, "missed": 0}
    assert first[0].kind == "job" and first[0].name == "nightly-1"
    assert driver._wake_at[uuid] == START + timedelta(seconds=60)  # the driver sleeps until then

    clock.advance(59)
    driver.tick()
    assert len(ticks(database, uuid)) == 1  # not yet due
    clock.advance(1)
    driver.tick()
    clock.advance(60)
    driver.tick()
    made = ticks(database, uuid)
    assert [c.key for c in made] == [
        "tick-20261207T100000Z",
        "tick-20261207T100100Z",
        "tick-20261207T100200Z",
    ]
    clock.advance(600)
    driver.tick()
    assert len(ticks(database, uuid)) == 3  # maxRuns
    assert runs_gateway.get_run(database, uuid).status == RunStatus.RUNNING  # its ticks are not done
    for child in made:
        finish(database, child)
    driver.tick()
    pipeline = runs_gateway.get_run(database, uuid)
    assert pipeline.status == RunStatus.SUCCEEDED
    assert pipeline.meta["pipeline"]["ticks"] == 3 and pipeline.meta["pipeline"]["next_at"] is None


def test_a_restarted_or_second_driver_never_fires_a_tick_twice(database: Database) -> None:
    clock = FakeClock(START)
    uuid = create_schedule(database, {"kind": "interval", "frequency": 10, "startAt": START.isoformat()})
    first = make_driver(database, clock)
    first.tick()
    # Another driver (a restarted process, or a second server) decides at the same moment.
    second = make_driver(database, clock)
    pipelines.take_over(database, uuid, first.owner, second.owner)
    second.tick()
    first.drive(runs_gateway.get_run(database, uuid))  # the old one, still deciding once more
    assert [c.key for c in ticks(database, uuid)] == ["tick-20261207T100000Z"]


def test_ticks_missed_while_no_driver_ran_fire_once_for_the_latest_due_time(database: Database) -> None:
    clock = FakeClock(START)
    uuid = create_schedule(database, {"kind": "interval", "frequency": 60, "startAt": START.isoformat()})
    driver = make_driver(database, clock)
    driver.tick()
    clock.advance(5 * 60 + 30)  # down across 5 due times: 10:01 ... 10:05
    restarted = make_driver(database, clock)
    pipelines.take_over(database, uuid, driver.owner, restarted.owner)
    restarted.tick()
    restarted.tick()
    made = ticks(database, uuid)
    assert [c.key for c in made] == ["tick-20261207T100000Z", "tick-20261207T100500Z"]
    assert made[1].meta[TICK_KEY]["missed"] == 4  # 10:01 to 10:04 skipped, 10:05 ran
    assert runs_gateway.get_run(database, uuid).meta["pipeline"]["missed"] == 4


def test_a_start_in_the_past_runs_the_latest_due_tick_at_once(database: Database) -> None:
    clock = FakeClock(START)
    past = START - timedelta(days=2, seconds=30)
    uuid = create_schedule(database, {"kind": "interval", "frequency": 3600, "startAt": past.isoformat()})
    make_driver(database, clock).tick()
    (only,) = ticks(database, uuid)
    assert only.key == "tick-20261207T095930Z"


def test_depends_on_past_waits_for_the_previous_tick_and_a_failed_one_ends_the_schedule(
    database: Database,
) -> None:
    clock = FakeClock(START)
    uuid = create_schedule(
        database,
        {"kind": "interval", "frequency": 60, "startAt": START.isoformat(), "dependsOnPast": True},
    )
    driver = make_driver(database, clock)
    driver.tick()
    clock.advance(150)  # 10:01 and 10:02 are due; tick 1 still runs
    driver.tick()
    (first,) = ticks(database, uuid)
    progress = runs_gateway.get_run(database, uuid).meta["pipeline"]
    assert "waiting for tick-20261207T100000Z" in progress["waiting"]
    finish(database, first)
    driver.tick()
    made = ticks(database, uuid)
    assert [c.key for c in made] == ["tick-20261207T100000Z", "tick-20261207T100200Z"]
    finish(database, made[1], RunStatus.FAILED)
    clock.advance(60)
    driver.tick()
    pipeline = runs_gateway.get_run(database, uuid)
    assert pipeline.status == RunStatus.FAILED
    assert len(ticks(database, uuid)) == 2
    condition = runs_gateway.conditions_of(database, uuid)[-1]
    assert condition.reason == "PreviousTickFailed" and "tick-20261207T100200Z" in (condition.message or "")


def test_without_depends_on_past_a_failed_tick_fails_the_schedule_at_its_end_only(database: Database) -> None:
    clock = FakeClock(START)
    uuid = create_schedule(
        database, {"kind": "interval", "frequency": 60, "startAt": START.isoformat(), "maxRuns": 2}
    )
    driver = make_driver(database, clock)
    driver.tick()
    finish(database, ticks(database, uuid)[0], RunStatus.FAILED)
    clock.advance(60)
    driver.tick()
    made = ticks(database, uuid)
    assert len(made) == 2  # the failure does not hold the next tick
    finish(database, made[1])
    driver.tick()
    assert runs_gateway.get_run(database, uuid).status == RunStatus.FAILED
    assert runs_gateway.conditions_of(database, uuid)[-1].message == "1 of 2 ticks succeeded"


def test_end_at_stops_the_ticks_and_the_schedule_succeeds(database: Database) -> None:
    clock = FakeClock(START)
    end = START + timedelta(seconds=150)
    uuid = create_schedule(
        database,
        {"kind": "interval", "frequency": 60, "startAt": START.isoformat(), "endAt": end.isoformat()},
    )
    driver = make_driver(database, clock)
    for _ in range(10):
        driver.tick()
        for child in ticks(database, uuid):
            if child.status == RunStatus.CREATED:
                finish(database, child)
        clock.advance(60)
    assert [c.key for c in ticks(database, uuid)] == [
        "tick-20261207T100000Z",
        "tick-20261207T100100Z",
        "tick-20261207T100200Z",
    ]
    assert runs_gateway.get_run(database, uuid).status == RunStatus.SUCCEEDED


def test_a_datetime_schedule_runs_once_at_its_time(database: Database) -> None:
    clock = FakeClock(START)
    at = START + timedelta(hours=1)
    uuid = create_schedule(database, {"kind": "datetime", "startAt": at.isoformat()})
    driver = make_driver(database, clock)
    driver.tick()
    assert ticks(database, uuid) == []
    assert driver._wake_at[uuid] == at
    clock.advance(3600)
    driver.tick()
    (only,) = ticks(database, uuid)
    assert only.key == "tick-20261207T110000Z"
    finish(database, only)
    clock.advance(3600)
    driver.tick()
    assert len(ticks(database, uuid)) == 1
    assert runs_gateway.get_run(database, uuid).status == RunStatus.SUCCEEDED


def test_a_cron_schedule_in_a_time_zone_keeps_local_time_across_daylight_saving(database: Database) -> None:
    # Paris leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 UTC after.
    start = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
    clock = FakeClock(start)
    uuid = create_schedule(
        database, {"kind": "cron", "cron": "CRON_TZ=Europe/Paris 0 9 * * *", "startAt": start.isoformat()}
    )
    driver = make_driver(database, clock)
    for _ in range(3):
        driver.tick()
        clock.now = driver._wake_at[uuid]
        driver.tick()
    assert [c.key for c in ticks(database, uuid)] == [
        "tick-20261024T070000Z",
        "tick-20261025T080000Z",
        "tick-20261026T080000Z",
    ]


def test_each_tick_of_a_scheduled_sweep_is_a_sweep_of_its_own(database: Database) -> None:
    clock = FakeClock(START)
    run = {"kind": "job", "container": {"image": "x", "command": ["echo", "{{ lr }}"]}}
    uuid = run_changes.create_run(
        database,
        NewRun(
            kind="schedule",
            executor="local",
            spec={
                **spec({"kind": "interval", "frequency": 60, "startAt": START.isoformat()}, run),
                "matrix": {"kind": "grid", "params": {"lr": {"kind": "choice", "value": [0.1, 0.2]}}},
                "component": {"inputs": [{"name": "lr", "type": "float"}], "run": run},
            },
        ),
    ).detail.run.uuid
    driver = make_driver(database, clock)
    driver.tick()
    (tick,) = ticks(database, uuid)
    assert tick.kind == "matrix"
    driver.tick()  # the driver claims the tick like any sweep, and creates its trials
    assert len(pipelines.children(database, tick.uuid)) == 2
    assert "schedule" not in (runs_gateway.get_run(database, tick.uuid).spec or {})
