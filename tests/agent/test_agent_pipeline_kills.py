"""Reliability of pipelines through the agent: `mizzen server` (executor kubernetes) drives a
random sweep (or a 6-op DAG) and `mizzen agent` runs its children as Jobs on the Kubernetes API
double; the test SIGKILLs the agent at random moments, restarting it each time (same name: the new
process adopts the old one's Jobs). The sweep must still make exactly numRuns trials (the DAG its 6
ops), each key once, one Job and one pod each, and succeed; no Kubernetes object is ever made for
the pipeline run itself. The counts are printed."""

from __future__ import annotations

import random
import re
import time
from typing import Any

import pytest
from tests.agent.cluster import NS, Installation
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.pipelines import op_key, trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

TRIALS = 30
KILL_BUDGET_SECONDS = 120  # kills happen while the pipeline runs, for at most this long
MAX_KILLS = 20
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


class Kubelet:
    """Schedules each new pod, runs it, and succeeds it once it ran ``dwell`` seconds, so that
    kills land while trials are pending, running and ending."""

    def __init__(self, setup: Installation, dwell: float = 2.0) -> None:
        self.setup = setup
        self.dwell = dwell
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
            elif now - self.running[name] >= self.dwell:
                self.setup.double.set_pod_phase(NS, name, "Succeeded")
                self.done.add(name)


@pytest.mark.parametrize(
    ("spec", "expected_keys", "min_kills"),
    [
        (SWEEP, [trial_key(i) for i in range(TRIALS)], 5),
        (DAG, [op_key(name) for name in DAG_OPS], 3),
    ],
    ids=["sweep-30-trials", "dag-6-ops"],
)
def test_sigkilled_agents_leave_a_pipeline_with_each_child_once(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
    spec: dict[str, Any],
    expected_keys: list[str],
    min_kills: int,
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
    kubelet = Kubelet(setup)
    kills = 0
    with MizzenClient(server.url) as client:

        def pipeline_status() -> RunStatus:
            return client.runs.get(pipeline_uuid).status

        stop_killing = time.monotonic() + KILL_BUDGET_SECONDS
        next_kill = time.monotonic() + rng.uniform(0.3, 2.5)
        while (
            kills < MAX_KILLS and pipeline_status() not in DONE_STATUSES and time.monotonic() < stop_killing
        ):
            kubelet.step()
            if time.monotonic() >= next_kill:
                agent.kill()
                kills += 1
                kubelet.step()  # the cluster goes on while no agent watches
                agent = setup.start_agent()
                next_kill = time.monotonic() + rng.uniform(0.3, 2.5)
            time.sleep(0.05)

        def pipeline_done() -> bool:
            kubelet.step()
            return pipeline_status() in DONE_STATUSES

        eventually(pipeline_done, "the pipeline ends after the last kill", timeout=240)
        pipeline = client.runs.get(pipeline_uuid)
        children = client.runs.list(query=f"pipeline:{pipeline_uuid}", limit=100).items
    keys = sorted(run.pipeline_key or "" for run in children)
    jobs = setup.double.list("batch/v1", "Job", NS)
    print(
        f"agent SIGKILLed {kills} times during {spec['name']}: {len(children)} children "
        f"({len(set(keys))} distinct keys), {len(jobs)} Jobs, {len(kubelet.done)} pods succeeded, "
        f"pipeline {pipeline.status}"
    )
    assert kills >= min_kills, "the pipeline ended before the agent was killed a few times"
    assert pipeline.status == RunStatus.SUCCEEDED, pipeline
    assert keys == sorted(expected_keys)  # exactly numRuns trials (each op), each key once
    assert {run.status for run in children} == {RunStatus.SUCCEEDED}
    assert len(kubelet.done) == len(expected_keys)  # one pod per child: none was started twice
    job_names = sorted(job["metadata"]["name"] for job in jobs)
    assert job_names == sorted(run_object_name("job", run.uuid) for run in children)  # one Job per trial
    assert not [name for name in job_names if pipeline_uuid[:12] in name]  # none for the pipeline
    pods = [pod["metadata"]["name"] for pod in setup.double.list("v1", "Pod", NS)]
    assert not [name for name in pods if pipeline_uuid[:12] in name]
