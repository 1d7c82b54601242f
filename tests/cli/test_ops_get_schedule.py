"""`mizzen ops get SCHEDULE` says plainly what the schedule is (cron expression with its time zone,
or interval), how many ticks fired, and the next due time, or that it ended and why. The real CLI in
its own processes: a live cron schedule driven by a `mizzen run` in the background, and an interval
schedule run to its `maxRuns`."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter
from pipeline_support import eventually, mizzen, pipeline_of, runs, start

from mizzen.settings import Settings


def _write(folder: Path, name: str, schedule: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        version: 1.1
        kind: operation
        name: {name}
        schedule: {schedule}
        component:
          run: {{kind: job, container: {{image: x, command: ["true"]}}}}
        """)
    )
    return path


def _planned(pipeline: dict) -> bool:
    return bool((pipeline["meta"].get("pipeline") or {}).get("next_at"))


def test_a_live_cron_schedule_shows_its_zone_ticks_and_next_due_time(
    settings: Settings, tmp_path: Path
) -> None:
    spec = _write(tmp_path, "nightly", '{kind: cron, cron: "CRON_TZ=Europe/Paris 0 9 * * *", maxRuns: 3}')
    driver = start("run", "-f", str(spec))
    try:
        pipeline = eventually(
            lambda: [p for p in runs() if p["kind"] == "schedule" and _planned(p)],
            "the schedule's first due time",
        )[0]
        shown = mizzen("ops", "get", pipeline["uuid"][:8])
    finally:
        driver.terminate()
        driver.communicate(timeout=120)
    assert shown.returncode == 0, shown.stderr
    paris = ZoneInfo("Europe/Paris")
    due = croniter("0 9 * * *", datetime.now(UTC).astimezone(paris)).get_next(datetime)
    lines = shown.stdout.splitlines()
    assert any(line.startswith("when: cron '0 9 * * *' in Europe/Paris, from ") for line in lines), lines
    assert "ticks fired: 0 (maxRuns 3)" in lines, lines
    assert any(line.startswith(f"next due: {due:%Y-%m-%d} 09:00:00 Europe/Paris (in ") for line in lines)
    assert "no trials yet" not in shown.stdout and "no runs yet" in lines
    assert "no metric to rank" not in shown.stdout


def test_an_ended_interval_schedule_says_it_ended_and_why(settings: Settings, tmp_path: Path) -> None:
    ran = mizzen("run", "-f", str(_write(tmp_path, "often", "{kind: interval, frequency: 1, maxRuns: 2}")))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    shown = mizzen("ops", "get", pipeline_of("schedule")["uuid"][:8])
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any(line.startswith("when: every 1.0s, from ") for line in lines), lines
    assert "ticks fired: 2 (maxRuns 2)" in lines, lines
    assert "ended: maxRuns 2 reached (2 of 2 ticks succeeded)" in lines, lines
    assert not any(line.startswith("next due") for line in lines)
