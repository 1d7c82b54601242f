"""SIGKILL the process that drives a sweep, at random moments, 20 times, restarting it each time:
the sweep still ends succeeded with exactly its trials, each trial key once, none stuck.

Two ways a user runs it: a `mizzen server` (local executor; a new server takes over the pipeline of
the one killed), and `mizzen run` in embedded mode followed by `mizzen ops resume` (the process
that drives it is the command itself). Each process is the real `mizzen` command; the kill is a
real SIGKILL. The seed of the random moments is printed, with the counts after each kill."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mizzen.schemas.pipelines import trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.store import Database, open_database
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.query import parse_query

TRIALS = 30
KILLS = 20
MIZZEN = str(Path(sys.executable).parent / "mizzen")

SWEEP = f"""
version: 1.1
kind: operation
name: chaos
matrix:
  kind: grid
  concurrency: 3
  params:
    i: {{kind: choice, value: {list(range(TRIALS))}}}
component:
  inputs:
    - {{name: i, type: int}}
  run:
    kind: job
    container:
      command: ["sleep", "0.5"]
"""


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    return path


@pytest.fixture
def store(settings: Settings) -> Iterator[Database]:
    settings.home.mkdir(parents=True, exist_ok=True)
    database = open_database(settings.resolved_database_url)
    yield database
    database.dispose()


def mizzen(*args: str, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([MIZZEN, *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(30)


def the_sweep(database: Database) -> str | None:
    page = runs_gateway.search_page(database, conditions=parse_query("kind:matrix"), limit=10)
    found = [str(item["uuid"]) for item in page.items]
    assert len(found) <= 1, found
    return found[0] if found else None


def counts(database: Database, uuid: str) -> dict[str, int]:
    return gateway.status_counts(database, uuid)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
            pytest.fail(f"{what}: not after {timeout}s\n--- mizzen output ---\n{tail}")
        time.sleep(0.05)
    return value


def drives(database: Database, uuid: str, process: subprocess.Popen[bytes]) -> bool:
    """``process`` drives the sweep now (it claimed it), or has exited."""
    owner = runs_gateway.get_run(database, uuid).owner or ""
    return f":{process.pid}:" in owner or process.poll() is not None


def check_the_sweep(database: Database, uuid: str, label: str, kills: int, busy_kills: int) -> None:
    children = gateway.children(database, uuid)
    keys = [child.key for child in children]
    final = counts(database, uuid)
    restarts = sum(
        1
        for child in children
        for c in runs_gateway.conditions_of(database, child.uuid)
        if c.reason == "Resumed"
    )
    print(
        f"{label}: {kills} SIGKILLs ({busy_kills} while trials ran), {len(children)} trials created, "
        f"{len(set(keys))} distinct keys, {restarts} trial restarts, final {final}, "
        f"sweep {runs_gateway.get_run(database, uuid).status}"
    )
    assert sorted(keys) == [trial_key(i) for i in range(TRIALS)]
    assert final == {"succeeded": TRIALS}
    assert runs_gateway.get_run(database, uuid).status == RunStatus.SUCCEEDED
    assert busy_kills > 0  # some kills hit the sweep while it ran trials


@pytest.mark.timeout(1200)
def test_a_sweep_survives_its_server_being_killed_20_times(
    settings: Settings, store: Database, sweep_file: Path, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    log = tmp_path / "server.log"
    server = mizzen("server", "--port", "0", cwd=tmp_path, log=log)
    announced = settings.home / "server.json"
    wait_for(announced.exists, 120, "the server announces itself", log)
    submitted = subprocess.run(
        [MIZZEN, "run", "-f", str(sweep_file), "--detach"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    uuid = wait_for(lambda: the_sweep(store), 60, "the sweep is created", log)
    busy = 0
    try:
        for number in range(1, KILLS + 1):
            wait_for(announced.exists, 120, "the server announces itself", log)
            time.sleep(rng.uniform(0.0, 1.2))  # it serves: a random moment of the sweep
            before = counts(store, uuid)
            kill(server)
            running = before.get("running", 0)
            busy += running > 0
            print(f"kill {number}: {before}")
            announced.unlink(missing_ok=True)  # a killed server cannot remove it
            server = mizzen("server", "--port", "0", cwd=tmp_path, log=log)
        done = wait_for(
            lambda: runs_gateway.get_run(store, uuid).status in DONE_STATUSES, 600, "the sweep ends", log
        )
        assert done
    finally:
        kill(server)
    check_the_sweep(store, uuid, "mizzen server", KILLS, busy)


@pytest.mark.timeout(1200)
def test_a_sweep_survives_mizzen_run_being_killed_and_resumed_20_times(
    settings: Settings, store: Database, sweep_file: Path, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    log = tmp_path / "mizzen.log"
    process = mizzen("run", "-f", str(sweep_file), cwd=tmp_path, log=log)
    uuid = wait_for(lambda: the_sweep(store), 120, "the sweep is created", log)
    busy = 0
    try:
        for number in range(1, KILLS + 1):
            wait_for(lambda: drives(store, uuid, process), 120, "the command drives the sweep", log)
            time.sleep(rng.uniform(0.0, 1.2))
            before = counts(store, uuid)
            if process.poll() is not None:  # it ended by itself: resume only a sweep not yet done
                print(f"kill {number}: the command had already exited ({process.returncode}), {before}")
            else:
                kill(process)
                busy += before.get("running", 0) > 0
                print(f"kill {number}: {before}")
            if runs_gateway.get_run(store, uuid).status == RunStatus.SUCCEEDED:
                break
            process = mizzen("ops", "resume", uuid, cwd=tmp_path, log=log)
        else:
            process.wait(600)
        if runs_gateway.get_run(store, uuid).status != RunStatus.SUCCEEDED:
            process = mizzen("ops", "resume", uuid, cwd=tmp_path, log=log)
            process.wait(600)
    finally:
        kill(process)
    check_the_sweep(store, uuid, "mizzen run + ops resume", KILLS, busy)
