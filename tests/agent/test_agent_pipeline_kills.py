"""Reliability of pipelines through the agent: `mizzen server` (executor kubernetes) drives a
random sweep (or a 6-op DAG) and `mizzen agent` runs its children as Jobs on the Kubernetes API
double; the test SIGKILLs the agent at random moments, restarting it each time (same name: the new
process adopts the old one's Jobs). The sweep must still make exactly numRuns trials (the DAG its 6
ops), each key once, one Job and one pod each, and succeed; no Kubernetes object is ever made for
the pipeline run itself. The counts are printed.

Each kill lands a random moment (0 to 1 s) after the new agent adopted the runs of the one before,
and the test's kubelet lets the children end in step with the kills (``PacedKubelet``), so all 20
kills fall inside the pipeline, at every stage of it. The agents are forked from a preloaded
`mizzen agent` (``forked_agents``): a restart is a new process that knows only what the API and the
cluster hold, without paying seconds of imports each time."""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.agent.cluster import NS, Installation
from tests.agent.forked_agents import AgentZygote
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.pipelines import op_key, trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

TRIALS = 30
KILLS = 20
MAX_KILL_DELAY = 1.0  # seconds after a new agent adopted its runs before it is killed
SWEEP = {
    "version": 1.1,
    "kind": "operation",
    "name": "killed-agent-sweep",
    "matrix": {
        "kind": "random",
        "numRuns": TRIALS,
        "seed": 11,
        "concurrency": 3,
        "params": {"lr": {"kind": "uniform", "value": [0.0, 1.0]}},
    },
    "component": {
        "inputs": [{"name": "lr", "type": "float"}],
        "run": {
            "kind": "job",
            "container": {"image": "python:3.11-slim", "command": ["python", "-c", "print({{ lr }})"]},
        },
    },
}


DAG_OPS = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["d"], "f": ["e"]}
DAG = {
    "version": 1.1,
    "kind": "operation",
    "name": "killed-agent-dag",
    "component": {
        "run": {
            "kind": "dag",
            "operations": [
                {
                    "name": name,
                    "dependencies": upstream,
                    "component": {
                        "run": {"kind": "job", "container": {"image": "busybox", "command": ["true"]}}
                    },
                }
                for name, upstream in DAG_OPS.items()
            ],
        }
    },
}


class PacedKubelet:
    """Schedules and runs each new pod at once, and succeeds a pod once it ran ``dwell`` seconds,
    but no more pods than ``allowance``: the test raises it with each kill, so the pipeline is
    spread over all the kills (they land while trials are pending, running, ending and being
    created) and cannot end before the last one."""

    def __init__(self, setup: Installation, dwell: float = 0.2) -> None:
        self.setup = setup
        self.dwell = dwell
        self.allowance = 0
        self.running: dict[str, float] = {}
        self.done: set[str] = set()

    def step(self) -> None:
        now = time.monotonic()
        for pod in self.setup.double.list("v1", "Pod", NS):
            name = pod["metadata"]["name"]
            if name in self.done or "deletionTimestamp" in pod["metadata"]:
                continue
            if name not in self.running:
                self.setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
                self.setup.double.set_pod_phase(NS, name, "Running")
                self.running[name] = now
            elif now - self.running[name] >= self.dwell and len(self.done) < self.allowance:
                self.setup.double.set_pod_phase(NS, name, "Succeeded")
                self.done.add(name)


@pytest.fixture
def forked_agents(installation: Installation) -> Iterator[None]:
    """Agents forked from a preloaded `mizzen agent` (tests/agent/agent_zygote.py): each restart
    costs the agent's start-up (connect, adopt), not seconds of imports, so 20 kills fit."""
    installation.zygote = AgentZygote(installation.agent_env)
    try:
        yield
    finally:
        installation.stop_agents()
        installation.zygote.close()


@pytest.mark.parametrize(
    ("spec", "expected_keys"),
    [
        (SWEEP, [trial_key(i) for i in range(TRIALS)]),
        (DAG, [op_key(name) for name in DAG_OPS]),
    ],
    ids=["sweep-30-trials", "dag-6-ops"],
)
def test_sigkilled_agents_leave_a_pipeline_with_each_child_once(
    installation: Installation,
    forked_agents: None,
    server: ServerProcess,  # noqa: F811
    spec: dict[str, Any],
    expected_keys: list[str],
) -> None:
    setup = installation
    agent = setup.start_agent()
    path = setup.write_polyaxonfile("pipeline.yaml", spec)
    submitted = setup.mizzen("run", "-f", str(path), "--detach", "-p", "kills")
    assert submitted.returncode == 0, (submitted.stdout, submitted.stderr)
    found = re.search(r"\b[0-9a-f]{32}\b", submitted.stdout)
    assert found, submitted.stdout
    pipeline_uuid = found.group(0)
    rng = random.Random(8)
    kubelet = PacedKubelet(setup)
    kills = 0
    with MizzenClient(server.url) as client:

        def pipeline_status() -> RunStatus:
            return client.runs.get(pipeline_uuid).status

        began = time.monotonic()
        restarts: list[float] = []  # seconds from each SIGKILL to the new agent's adoption
        done_at_kills: list[int] = []  # children ended when each kill landed
        while kills < KILLS and pipeline_status() not in DONE_STATUSES:
            kill_at = time.monotonic() + rng.uniform(0.0, MAX_KILL_DELAY)  # after it adopted
            while time.monotonic() < kill_at:
                kubelet.step()
                time.sleep(0.02)
            done_at_kills.append(len(kubelet.done))
            killed_at = time.monotonic()
            agent.kill()
            kills += 1
            kubelet.allowance = len(expected_keys) * kills // KILLS
            kubelet.step()  # the cluster goes on while no agent watches
            agent = setup.start_agent()
            restarts.append(time.monotonic() - killed_at)
        killing = time.monotonic() - began

        def pipeline_done() -> bool:
            kubelet.step()
            return pipeline_status() in DONE_STATUSES

        eventually(pipeline_done, "the pipeline ends after the last kill", timeout=120)
        tail = time.monotonic() - began - killing
        pipeline = client.runs.get(pipeline_uuid)
        children = client.runs.list(query=f"pipeline:{pipeline_uuid}", limit=100).items
    keys = sorted(run.pipeline_key or "" for run in children)
    jobs = setup.double.list("batch/v1", "Job", NS)
    print(
        f"agent SIGKILLed {kills} times during {spec['name']}: {len(children)} children "
        f"({len(set(keys))} distinct keys), {len(jobs)} Jobs, {len(kubelet.done)} pods succeeded, "
        f"pipeline {pipeline.status}; children ended at each kill: {done_at_kills}; "
        f"{killing:.0f} s of kills (restart to adoption: median "
        f"{statistics.median(restarts or [0]):.2f} s, max {max(restarts or [0]):.2f} s), "
        f"then {tail:.0f} s to the end"
    )
    assert kills == KILLS, "the pipeline ended before the agent was killed 20 times"
    assert pipeline.status == RunStatus.SUCCEEDED, pipeline
    assert keys == sorted(expected_keys)  # exactly numRuns trials (each op), each key once
    assert {run.status for run in children} == {RunStatus.SUCCEEDED}
    assert len(kubelet.running) == len(kubelet.done) == len(expected_keys)  # one pod each: none twice
    job_names = sorted(job["metadata"]["name"] for job in jobs)
    assert job_names == sorted(run_object_name("job", run.uuid) for run in children)  # one Job per trial
    assert not [name for name in job_names if pipeline_uuid[:12] in name]  # none for the pipeline
    pods = [pod["metadata"]["name"] for pod in setup.double.list("v1", "Pod", NS)]
    assert not [name for name in pods if pipeline_uuid[:12] in name]
