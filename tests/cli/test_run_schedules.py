"""`mizzen run` of schedules as a user types it: real `mizzen` processes, real ticks run by the local
executor, a real store; and `--detach` against a real `mizzen server`."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "schedules"
DEADLINE = 120.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    return home


def mizzen(*args: str, timeout: float = DEADLINE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIZZEN, *args], check=False, capture_output=True, text=True, timeout=timeout)


def runs() -> list[dict]:
    result = mizzen("ops", "ls", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    found: list[dict] = json.loads(result.stdout)
    return found


def get(uuid: str) -> dict:
    result = mizzen("ops", "get", uuid, "--json")
    assert result.returncode == 0, result.stderr
    found: dict = json.loads(result.stdout)
    return found


def ticks_of(uuid: str) -> list[dict]:
    children = [r for r in runs() if r.get("pipeline_uuid") == uuid]
    return sorted(children, key=lambda r: r["meta"]["tick"]["due"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_an_interval_schedule_runs_max_runs_ticks_and_mizzen_run_exits_0(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """
        version: 1.1
        kind: operation
        name: every-second
        schedule: {kind: interval, frequency: 1, maxRuns: 3}
        component:
          run:
            kind: job
            container: {image: x, command: [python, -c, "print('tick')"]}
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    # The summary gives the reason's message (the live status line, with "ScheduleDone:", may be
    # skipped when the schedule ends between two refreshes).
    assert "3 of 3 ticks succeeded" in result.stdout + result.stderr
    (pipeline,) = [r for r in runs() if r["kind"] == "schedule"]
    assert pipeline["status"] == "succeeded"
    ticks = ticks_of(pipeline["uuid"])
    assert [t["status"] for t in ticks] == ["succeeded"] * 3
    dues = [datetime.fromisoformat(t["meta"]["tick"]["due"]) for t in ticks]
    assert [b - a for a, b in itertools.pairwise(dues)] == [timedelta(seconds=1)] * 2


def test_the_every_second_cron_example_runs_its_ticks_with_their_due_time(home: Path) -> None:
    result = mizzen("run", "-f", str(EXAMPLES / "every-second.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    (pipeline,) = [r for r in runs() if r["kind"] == "schedule"]
    ticks = ticks_of(pipeline["uuid"])
    assert len(ticks) == 3
    for tick in ticks:
        assert datetime.fromisoformat(tick["meta"]["tick"]["due"]).second % 2 == 0  # `*/2`: seconds
    due = ticks[-1]["meta"]["tick"]["due"]
    logs = mizzen("ops", "logs", ticks[-1]["uuid"])
    assert f"tick due at {due}" in logs.stdout  # {{ globals.schedule_at }}


def test_an_invalid_cron_is_refused_with_its_line_and_no_run_is_made(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """
        version: 1.1
        kind: operation
        schedule:
          kind: cron
          cron: "0 25 * * *"
        component:
          run: {kind: job, container: {image: x, command: ["true"]}}
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 1
    assert "schedule.yaml:6" in result.stderr and "is not a cron expression" in result.stderr
    assert runs() == []


def test_detach_leaves_the_schedule_to_the_server_which_runs_it_to_its_end(
    home: Path, tmp_path: Path
) -> None:
    spec = write(
        tmp_path,
        """
        version: 1.1
        kind: operation
        schedule: {kind: interval, frequency: 1, maxRuns: 2}
        component:
          run: {kind: job, container: {image: x, command: ["true"]}}
        """,
    )
    server = subprocess.Popen(
        [MIZZEN, "server", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not (home / "server.json").is_file():  # the server announces itself once it listens
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        result = mizzen("run", "-f", str(spec), "--detach")
        assert result.returncode == 0, result.stdout + result.stderr
        uuid = result.stdout.strip().splitlines()[-1]
        while (status := get(uuid)["status"]) not in ("succeeded", "failed", "stopped"):
            assert time.monotonic() < deadline, f"the schedule is still {status}"
            time.sleep(0.2)
        assert status == "succeeded"
        assert [t["status"] for t in ticks_of(uuid)] == ["succeeded", "succeeded"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=DEADLINE)
