"""Reliability of a sweep through the agent: `mizzen server` (executor kubernetes) drives a random
sweep and `mizzen agent` runs its trials as Jobs on the Kubernetes API double; the test SIGKILLs the
agent at random moments, restarting it each time (same name: the new process adopts the old one's
Jobs). The sweep must still make exactly numRuns trials, each key once, one Job each, and succeed;
no Kubernetes object is ever made for the pipeline run itself."""

from __future__ import annotations

import random
import re
import time

from tests.agent.cluster import NS, Installation
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.pipelines import trial_key
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

TRIALS = 30
KILL_BUDGET_SECONDS = 120  # kills happen while the sweep runs, for at most this long
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


def test_sigkilled_agents_leave_a_sweep_with_exactly_num_runs_trials(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
) -> None:
    setup = installation
    agent = setup.start_agent()
    path = setup.write_polyaxonfile("sweep.yaml", SWEEP)
    submitted = setup.mizzen("run", "-f", str(path), "--detach", "-p", "kills")
    assert submitted.returncode == 0, (submitted.stdout, submitted.stderr)
    found = re.search(r"\b[0-9a-f]{32}\b", submitted.stdout)
    assert found, submitted.stdout
    sweep_uuid = found.group(0)
    rng = random.Random(8)
    kubelet = Kubelet(setup)
    kills = 0
    with MizzenClient(server.url) as client:

        def sweep_status() -> RunStatus:
            return client.runs.get(sweep_uuid).status

        stop_killing = time.monotonic() + KILL_BUDGET_SECONDS
        next_kill = time.monotonic() + rng.uniform(0.3, 2.5)
        while kills < MAX_KILLS and sweep_status() not in DONE_STATUSES and time.monotonic() < stop_killing:
            kubelet.step()
            if time.monotonic() >= next_kill:
                agent.kill()
                kills += 1
                kubelet.step()  # the cluster goes on while no agent watches
                agent = setup.start_agent()
                next_kill = time.monotonic() + rng.uniform(0.3, 2.5)
            time.sleep(0.05)

        def sweep_done() -> bool:
            kubelet.step()
            return sweep_status() in DONE_STATUSES

        eventually(sweep_done, "the sweep ends after the last kill", timeout=240)
        sweep = client.runs.get(sweep_uuid)
        trials = client.runs.list(query=f"pipeline:{sweep_uuid}", limit=100).items
    keys = sorted(run.pipeline_key or "" for run in trials)
    jobs = setup.double.list("batch/v1", "Job", NS)
    print(
        f"agent SIGKILLed {kills} times: {len(trials)} trials ({len(set(keys))} distinct keys), "
        f"{len(jobs)} Jobs, {len(kubelet.done)} pods succeeded, sweep {sweep.status}"
    )
    assert kills >= 5, "the sweep ended before the agent was killed a few times"
    assert sweep.status == RunStatus.SUCCEEDED, sweep
    assert keys == sorted(trial_key(i) for i in range(TRIALS))  # exactly numRuns, each key once
    assert {run.status for run in trials} == {RunStatus.SUCCEEDED}
    assert len(kubelet.done) == TRIALS  # one pod per trial: no trial was started twice
    job_names = sorted(job["metadata"]["name"] for job in jobs)
    assert job_names == sorted(run_object_name("job", run.uuid) for run in trials)  # one Job per trial
    assert not [name for name in job_names if sweep_uuid[:12] in name]  # none for the pipeline
    pods = [pod["metadata"]["name"] for pod in setup.double.list("v1", "Pod", NS)]
    assert not [name for name in pods if sweep_uuid[:12] in name]
