"""The cron example of examples/schedules, compiled as `mizzen run` compiles it and driven by the
real driver over the real store on a fake clock through its first week (the every-second example
runs for real through the CLI: tests/cli/test_run_schedules.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mizzen.compiler.compile import Compiler, compile_files
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.store import open_database
from mizzen.store.gateway import pipelines, run_changes, statuses
from mizzen.store.records import NewRun

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "schedules" / "weekday-report.yaml"


def test_the_weekday_report_runs_at_nine_in_paris_on_weekdays_only(db_url: str, settings: Settings) -> None:
    compiled = compile_files([EXAMPLE], {}, settings)
    assert compiled.pipeline_kind == "schedule"
    database = open_database(db_url)
    try:
        uuid = run_changes.create_run(
            database, NewRun(kind="schedule", spec=compiled.resolved.data, executor="local")
        ).detail.run.uuid
        clock_now = [datetime(2026, 12, 31, 12, 0, tzinfo=UTC)]
        driver = PipelineDriver(
            database, lambda _run: Compiler(), executor="local", clock=lambda: clock_now[0]
        )
        for _ in range(6):
            driver.tick()
            for child in pipelines.children(database, uuid):
                if child.status == RunStatus.CREATED:  # each report succeeds (dependsOnPast: true)
                    statuses.set_status(database, child.uuid, RunStatus.RUNNING)
                    statuses.set_status(database, child.uuid, RunStatus.SUCCEEDED)
            clock_now[0] = driver._wake_at[uuid]
        keys = sorted(c.key or "" for c in pipelines.children(database, uuid))
        # 2027-01-01 is a Friday; Paris is UTC+1 in winter: 09:00 there is 08:00 UTC.
        assert keys == [
            "tick-20270101T080000Z",
            "tick-20270104T080000Z",
            "tick-20270105T080000Z",
            "tick-20270106T080000Z",
            "tick-20270107T080000Z",
        ]
    finally:
        database.dispose()
