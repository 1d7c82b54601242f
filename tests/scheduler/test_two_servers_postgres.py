"""Two real `mizzen server` processes on one PostgreSQL database drive the same pipelines: three
sweeps and a DAG, submitted through the first. Each server runs a pipeline driver and a run
scheduler (local executor) on the shared database: drivers race to claim the pipelines, schedulers
race to claim their children. Every child appends its run's uuid to one file, so a run executed
twice would show twice. Checked: each trial key and op key exactly once, a random sweep's
``numRuns`` exactly, every pipeline succeeded, every child ran exactly once. The counts are printed,
with which server drove each pipeline and ran how many children.

The pipelines are submitted held for approval (`isApproved: false`), then approved in turn through
each server: the one that approves a pipeline hears of it at once and the other finds it by polling,
so both drivers race for every claim and each drives some; each server's scheduler claims the
children of either's pipelines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mizzen.client import MizzenClient
from mizzen.schemas.pipelines import op_key, trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.settings import Settings
from mizzen.store import open_database
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import runs as runs_gateway

MIZZEN = str(Path(sys.executable).parent / "mizzen")
SWEEPS = {  # name -> (matrix, children it must end with)
    "rand": (
        {
            "kind": "random",
            "numRuns": 14,
            "seed": 7,
            "concurrency": 4,
            "params": {"x": {"kind": "uniform", "value": [0, 1]}},
        },
        14,
    ),
    "grid": (
        {"kind": "grid", "concurrency": 3, "params": {"x": {"kind": "choice", "value": list(range(10))}}},
        10,
    ),
    "wide": (
        {
            "kind": "random",
            "numRuns": 8,
            "concurrency": 8,
            "params": {"x": {"kind": "choice", "value": [1, 2, 3]}},
        },
        8,
    ),
}
DAG_OPS = {
    "prepare": [],
    "left": ["prepare"],
    "middle": ["prepare"],
    "right": ["prepare"],
    "join": ["left", "middle", "right"],
}


def command(ledger: Path) -> list[str]:
    """Appends the run's uuid to the ledger (one line per execution), then lingers a little."""
    return ["sh", "-c", f'echo "$MIZZEN_RUN_UUID" >> {ledger}; sleep 0.3']


def sweep_spec(name: str, matrix: dict[str, Any], ledger: Path) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "operation",
        "name": name,
        "isApproved": False,
        "matrix": matrix,
        "component": {
            "inputs": [{"name": "x", "type": "float"}],
            "run": {"kind": "job", "container": {"image": "busybox", "command": command(ledger)}},
        },
    }


def dag_spec(ledger: Path) -> dict[str, Any]:
    job = {"run": {"kind": "job", "container": {"image": "busybox", "command": command(ledger)}}}
    operations = [
        {"name": name, "component": job, **({"dependencies": after} if after else {})}
        for name, after in DAG_OPS.items()
    ]
    return {
        "version": 1.1,
        "kind": "operation",
        "name": "flow",
        "isApproved": False,
        "component": {"run": {"kind": "dag", "operations": operations}},
    }


class Server:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.log = home.parent / f"{home.name}.log"
        home.mkdir(parents=True)
        self.env = {**env, "MIZZEN_HOME": str(home)}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [MIZZEN, "server", "--port", "0"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        return str(json.loads((self.home / "server.json").read_text())["url"])

    def mizzen(self, *args: str) -> str:
        done = subprocess.run(
            [MIZZEN, *args],
            env={**self.env, "MIZZEN_HOST": self.url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"mizzen {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


@pytest.fixture
def database_url(pg_database_factory: Callable[[], str]) -> str:
    return pg_database_factory()


@pytest.fixture
def servers(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[tuple[Server, Server]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_DATABASE_URL"] = database_url
    first = Server(tmp_path / "server-a", env)
    second = Server(tmp_path / "server-b", env)  # both start at once: they migrate the one database
    try:
        wait_for(
            lambda: all((s.home / "server.json").exists() for s in (first, second)),
            120,
            "both servers start",
            [first, second],
        )
        yield first, second
    finally:
        first.stop()
        second.stop()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, servers: list[Server]) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline or any(s.process.poll() is not None for s in servers):
            outputs = "\n".join(f"--- {s.home.name} ---\n{s.output()}" for s in servers)
            pytest.fail(f"{what}: not after {timeout}s\n{outputs}")
        time.sleep(0.1)
    return value


@pytest.mark.timeout(300)
def test_two_servers_on_one_postgresql_drive_the_same_pipelines_creating_and_running_each_child_once(
    servers: tuple[Server, Server], database_url: str, tmp_path: Path
) -> None:
    first, second = servers
    ledger = tmp_path / "executions"
    ledger.touch()
    specs = {name: sweep_spec(name, matrix, ledger) for name, (matrix, _) in SWEEPS.items()}
    specs["flow"] = dag_spec(ledger)
    expected = {name: [trial_key(i) for i in range(n)] for name, (_, n) in SWEEPS.items()}
    expected["flow"] = sorted(op_key(name) for name in DAG_OPS)
    uuids: dict[str, str] = {}
    for name, spec in specs.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        uuids[name] = first.mizzen("run", "-f", str(path), "--detach", "-p", "race").strip().splitlines()[-1]
    for number, name in enumerate(specs):  # held until now
        with MizzenClient((first, second)[number % 2].url) as client:
            client.flow.approve(uuids[name])

    database = open_database(database_url)
    try:

        def all_done() -> bool:
            return all(runs_gateway.get_run(database, u).status in DONE_STATUSES for u in uuids.values())

        wait_for(all_done, 240, "every pipeline ends", [first, second])
        executions = Counter(ledger.read_text().split())
        drivers = Counter(str(runs_gateway.get_run(database, u).owner).split(":")[1] for u in uuids.values())
        ran_by: Counter[str] = Counter()
        report = []
        children: dict[str, list[Any]] = {}
        for name, uuid in uuids.items():
            children[name] = gateway.children(database, uuid)
            for child in children[name]:
                ran_by[str(runs_gateway.get_run(database, child.uuid).owner).split(":")[1]] += 1
            keys = [c.key for c in children[name]]
            report.append(
                f"{name}: {runs_gateway.get_run(database, uuid).status}, {len(keys)} children, "
                f"{len(set(keys))} distinct keys, {gateway.status_counts(database, uuid)}"
            )
        pids = {str(first.process.pid): "server A", str(second.process.pid): "server B"}
        print("\n".join(report))
        print(
            f"executions recorded: {sum(executions.values())} lines, {len(executions)} distinct runs, "
            f"most by one run {max(executions.values())}; pipelines driven by "
            f"{ {pids.get(p, p): n for p, n in drivers.items()} }; children run by "
            f"{ {pids.get(p, p): n for p, n in ran_by.items()} }"
        )
        every_child = [c.uuid for found in children.values() for c in found]
        for name, uuid in uuids.items():
            assert runs_gateway.get_run(database, uuid).status == RunStatus.SUCCEEDED, name
            assert sorted(c.key for c in children[name]) == expected[name], name
            assert gateway.status_counts(database, uuid) == {"succeeded": len(expected[name])}, name
        assert sorted(executions) == sorted(every_child)  # each child ran, and nothing else did
        assert set(executions.values()) == {1}, executions  # none ran twice
    finally:
        database.dispose()
