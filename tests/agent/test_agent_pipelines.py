"""Pipelines on Kubernetes: `mizzen server` (executor kubernetes) drives a sweep — its pipeline
driver creates the trials in the store — and `mizzen agent` runs each trial as a Job on the
Kubernetes API double, whose pods the test moves through their phases as a kubelet would. The agent
never claims the pipeline run itself: no Kubernetes object is ever made for it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.cluster import MIZZEN, NS, Installation, agent_environment
from tests.agent.support import eventually

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.pipelines import trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

TRIALS = 6
SWEEP = {
    "version": 1.1,
    "kind": "operation",
    "name": "k8s-sweep",
    "matrix": {
        "kind": "grid",
        "concurrency": 2,
        "params": {"lr": {"kind": "choice", "value": [0.001 * (i + 1) for i in range(TRIALS)]}},
    },
    "component": {
        "inputs": [{"name": "lr", "type": "float"}],
        "run": {
            "kind": "job",
            "container": {"image": "python:3.11-slim", "command": ["python", "-c", "print({{ lr }})"]},
        },
    },
}


class ServerProcess:
    """`mizzen server` as a user starts it in the cluster: MIZZEN_EXECUTOR=kubernetes (it runs
    nothing itself; agents do), its own home and SQLite store."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        env = agent_environment(home, {"MIZZEN_EXECUTOR": "kubernetes"})
        self.log_path = home / "server.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [MIZZEN, "server", "--port", "0"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        announced = home / "server.json"

        def url() -> str | None:
            try:  # the server writes the file in place: it may be seen empty or half written
                return str(json.loads(announced.read_text())["url"])
            except (OSError, ValueError, KeyError):
                return None

        eventually(lambda: url() or self.process.poll() is not None, "the server started", 120)
        assert self.process.poll() is None, self.output()
        self.url = str(url())

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


@pytest.fixture
def server(installation: Installation, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "server-home")
    installation.api.url = process.url  # the agent and the user's CLI talk to this server
    installation.user_env["MIZZEN_HOST"] = process.url
    try:
        yield process
    finally:
        process.stop()
        print(f"--- mizzen server ---\n{process.output()}")


def play_kubelet(setup: Installation, handled: set[str]) -> None:
    """Every new pod is scheduled, runs, and succeeds."""
    for pod in setup.double.list("v1", "Pod", NS):
        name = pod["metadata"]["name"]
        if name in handled or "deletionTimestamp" in pod["metadata"]:
            continue
        handled.add(name)
        setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
        setup.double.set_pod_phase(NS, name, "Running")
        setup.double.set_pod_phase(NS, name, "Succeeded")


def test_a_sweep_driven_by_mizzen_server_runs_its_trials_as_pods_through_the_agent(
    installation: Installation, server: ServerProcess
) -> None:
    setup = installation
    setup.start_agent()
    path = setup.write_polyaxonfile("sweep.yaml", SWEEP)
    cli = setup.mizzen_background("run", "-f", str(path), "-p", "k8s")
    handled: set[str] = set()
    with MizzenClient(server.url) as client:

        def sweep_done() -> bool:
            play_kubelet(setup, handled)
            runs = client.runs.list(project="k8s", limit=100).items
            sweeps = [run for run in runs if run.kind == "matrix"]
            return bool(sweeps) and sweeps[0].status in DONE_STATUSES

        eventually(sweep_done, "the sweep ends", timeout=240)
        runs = client.runs.list(project="k8s", limit=100).items
        (sweep,) = [run for run in runs if run.kind == "matrix"]
        trials = [run for run in runs if run.pipeline_uuid == sweep.uuid]
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, (out, err)  # `mizzen run` watched the sweep to its success
    assert sweep.status == RunStatus.SUCCEEDED
    assert sorted(run.pipeline_key or "" for run in trials) == [trial_key(i) for i in range(TRIALS)]
    assert {run.status for run in trials} == {RunStatus.SUCCEEDED}
    assert all(run.executor == "kubernetes" for run in trials)
    # each trial was a Job of the agent's, with its own value; the pipeline itself never was
    assert len(handled) == TRIALS
    assert setup.double.get("batch/v1", "Job", run_object_name("job", sweep.uuid), NS) is None
    commands = sorted(
        " ".join(job["spec"]["template"]["spec"]["containers"][0]["command"])
        for job in setup.double.list("batch/v1", "Job", NS)
    )
    assert len(commands) == TRIALS
    for i in range(TRIALS):
        assert f"print({0.001 * (i + 1)})" in " ".join(commands)
    agent_log = setup.agents[0].output()
    assert sweep.uuid not in agent_log, agent_log  # the agent never touched the pipeline run
    assert os.environ.get("MIZZEN_HOST") is None  # the test's own environment stayed clean
