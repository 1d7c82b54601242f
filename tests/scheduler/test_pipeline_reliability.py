"""SIGKILL the process that drives a pipeline, at random moments, 20 times, restarting it each time:
a 30-trial sweep still ends succeeded with exactly its 30 trials, a 6-op DAG with its 6 ops, each
key created once and each child succeeded once (a child the kill interrupted is restarted, never
created again), none stuck.

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
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from mizzen.schemas.pipelines import op_key, trial_key
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


DAG_OPS = 6
DAG = """
version: 1.1
kind: operation
name: chaos
component:
  run:
    kind: dag
    operations:
""" + "".join(
    f"""      - name: op{i}
        {f"dependencies: [op{i - 1}]" if i else ""}
        component:
          run:
            kind: job
            container:
              command: ["sleep", "0.5"]
"""
    for i in range(DAG_OPS)
)


@dataclass(frozen=True)
class Pipeline:
    kind: str  # matrix | dag
    text: str
    keys: list[str]  # the children it must end with, each once


PIPELINES = {
    "sweep": Pipeline("matrix", SWEEP, [trial_key(i) for i in range(TRIALS)]),
    "dag": Pipeline("dag", DAG, [op_key(f"op{i}") for i in range(DAG_OPS)]),
}


@pytest.fixture(params=sorted(PIPELINES))
def pipeline(request: pytest.FixtureRequest) -> Pipeline:
    return PIPELINES[request.param]


@pytest.fixture
def pipeline_file(tmp_path: Path, pipeline: Pipeline) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(pipeline.text, encoding="utf-8")
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


def the_pipeline(database: Database, kind: str) -> str | None:
    page = runs_gateway.search_page(database, conditions=parse_query(f"kind:{kind}"), limit=10)
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
    """``process`` drives the pipeline now (it claimed it), or has exited."""
    owner = runs_gateway.get_run(database, uuid).owner or ""
    return f":{process.pid}:" in owner or process.poll() is not None


def check_the_pipeline(
    database: Database, uuid: str, pipeline: Pipeline, label: str, kills: int, busy_kills: int
) -> None:
    children = gateway.children(database, uuid)
    keys = [child.key for child in children]
    final = counts(database, uuid)
    histories = {child.key: runs_gateway.conditions_of(database, child.uuid) for child in children}
    restarts = sum(1 for history in histories.values() for c in history if c.reason == "Resumed")
    successes = {
        key: sum(1 for c in history if c.type == RunStatus.SUCCEEDED) for key, history in histories.items()
    }
    print(
        f"{label}, {pipeline.kind}: {kills} SIGKILLs ({busy_kills} while children ran), "
        f"{len(children)} children created, {len(set(keys))} distinct keys, {restarts} restarts of "
        f"interrupted children, final {final}, pipeline {runs_gateway.get_run(database, uuid).status}"
    )
    assert sorted(keys) == sorted(pipeline.keys)
    assert final == {"succeeded": len(pipeline.keys)}
    assert set(successes.values()) == {1}, successes  # no child ran to its end twice
    assert runs_gateway.get_run(database, uuid).status == RunStatus.SUCCEEDED
    assert busy_kills > 0  # some kills hit the pipeline while it ran children


@pytest.mark.timeout(1200)
def test_a_pipeline_survives_its_server_being_killed_20_times(
    settings: Settings, store: Database, pipeline: Pipeline, pipeline_file: Path, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    log = tmp_path / "server.log"
    server = mizzen("server", "--port", "0", cwd=tmp_path, log=log)
    announced = settings.home / "server.json"
    wait_for(announced.exists, 120, "the server announces itself", log)
    submitted = subprocess.run(
        [MIZZEN, "run", "-f", str(pipeline_file), "--detach"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    uuid = wait_for(lambda: the_pipeline(store, pipeline.kind), 60, "the pipeline is created", log)
    busy = 0
    try:
        for number in range(1, KILLS + 1):
            wait_for(announced.exists, 120, "the server announces itself", log)
            time.sleep(rng.uniform(0.0, 1.2))  # it serves: a random moment of the pipeline
            before = counts(store, uuid)
            kill(server)
            running = before.get("running", 0)
            busy += running > 0
            print(f"kill {number}: {before}")
            announced.unlink(missing_ok=True)  # a killed server cannot remove it
            server = mizzen("server", "--port", "0", cwd=tmp_path, log=log)
        done = wait_for(
            lambda: runs_gateway.get_run(store, uuid).status in DONE_STATUSES, 600, "the pipeline ends", log
        )
        assert done
    finally:
        kill(server)
    check_the_pipeline(store, uuid, pipeline, "mizzen server", KILLS, busy)


@pytest.mark.timeout(1200)
def test_a_pipeline_survives_mizzen_run_being_killed_and_resumed_20_times(
    settings: Settings, store: Database, pipeline: Pipeline, pipeline_file: Path, tmp_path: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    log = tmp_path / "mizzen.log"
    process = mizzen("run", "-f", str(pipeline_file), cwd=tmp_path, log=log)
    uuid = wait_for(lambda: the_pipeline(store, pipeline.kind), 120, "the pipeline is created", log)
    busy = 0
    try:
        for number in range(1, KILLS + 1):
            wait_for(partial(drives, store, uuid, process), 120, "the command drives the pipeline", log)
            time.sleep(rng.uniform(0.0, 1.2))
            before = counts(store, uuid)
            if process.poll() is not None:  # it ended by itself: resume only a pipeline not yet done
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
    check_the_pipeline(store, uuid, pipeline, "mizzen run + ops resume", KILLS, busy)
