"""The orchestration examples through the Kubernetes executor: each is submitted as a user does
(`mizzen run -f examples/... --detach`) to `mizzen server` (executor kubernetes), whose pipeline
driver creates the children; `mizzen agent` runs every child as a Job on the Kubernetes API double.

Pods in the double run no container, so the test plays both the kubelet and the training code: for
each new pod it logs what the example's script would (the outputs `rows`, `score`, `loss`,
`accuracy` and the metric `loss`, through the API as `mizzen.tracking` does), then moves the pod
Pending -> Running -> Succeeded. What it proves: the example compiles and renders for Kubernetes,
each child becomes a Job whose pod's end drives the pipeline (DAG edges and upstream outputs,
hyperband's rungs by the metric, the schedule's ticks, the sweep inside a DAG), and the pipeline
ends `succeeded` with no Kubernetes object of its own."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from tests.agent.cluster import NS, Installation
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.api import RunRead
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_UUID_LABEL = "mizzen.dev/run-uuid"
PIPELINE_KINDS = {"matrix", "dag", "schedule"}


class TrainingKubelet:
    """Each new pod: log what the example's code would, then run and succeed it."""

    def __init__(self, setup: Installation, client: MizzenClient) -> None:
        self.setup = setup
        self.client = client
        self.rng = random.Random(3)
        self.done: set[str] = set()

    def step(self) -> None:
        for pod in self.setup.double.list("v1", "Pod", NS):
            name = pod["metadata"]["name"]
            if name in self.done or "deletionTimestamp" in pod["metadata"]:
                continue
            self.done.add(name)
            uuid = pod["metadata"]["labels"][RUN_UUID_LABEL]
            loss = round(self.rng.uniform(0.1, 1.0), 4)
            self.setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
            self.setup.double.set_pod_phase(NS, name, "Running")
            self.client.metrics.log(
                uuid, [{"name": "loss", "value": loss, "step": 1, "timestamp": time.time()}]
            )
            outputs = {"rows": 12, "score": 0.9, "loss": loss, "accuracy": 1 - loss}
            self.client.runs.update(uuid, outputs=outputs)
            self.setup.double.set_pod_phase(NS, name, "Succeeded")


def descendants(client: MizzenClient, uuid: str) -> list[RunRead]:
    """The pipeline's children, and the children of those that are pipelines (a sweep in a DAG)."""
    children = client.runs.list(query=f"pipeline:{uuid}", limit=200).items
    nested = [descendants(client, child.uuid) for child in children if child.kind in PIPELINE_KINDS]
    return children + [run for runs in nested for run in runs]


@pytest.mark.parametrize(
    ("example", "kind", "jobs"),
    [
        ("dags/pipeline.yaml", "dag", 3),
        ("sweeps/hyperband.yaml", "matrix", 22),  # maxIterations 9, eta 3: 9 + 3 + 1 + 5 + 1 + 3
        ("schedules/every-second.yaml", "schedule", 3),
        ("dags/sweep_in_dag.yaml", "dag", 5),  # prepare, 3 trials of search, summary
    ],
)
def test_an_example_runs_through_the_agent_on_the_api_double(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
    example: str,
    kind: str,
    jobs: int,
) -> None:
    setup = installation
    setup.start_agent()
    project = re.sub(r"[^a-z0-9]+", "-", example.removesuffix(".yaml"))
    submitted = setup.mizzen("run", "-f", str(EXAMPLES / example), "--detach", "-p", project)
    assert submitted.returncode == 0, (submitted.stdout, submitted.stderr)
    found = re.search(r"\b[0-9a-f]{32}\b", submitted.stdout)
    assert found, submitted.stdout
    uuid = found.group(0)
    with MizzenClient(server.url) as client:
        kubelet = TrainingKubelet(setup, client)

        def ended() -> RunRead | None:
            kubelet.step()
            run = client.runs.get(uuid)
            return run if run.status in DONE_STATUSES else None

        pipeline = eventually(ended, f"{example} ends", timeout=300, interval=0.1)
        runs = descendants(client, uuid)
    assert pipeline.kind == kind
    assert pipeline.status == RunStatus.SUCCEEDED, (pipeline.status, [(r.name, r.status) for r in runs])
    job_runs = [run for run in runs if run.kind not in PIPELINE_KINDS]
    assert len(job_runs) == jobs, [(run.name, run.pipeline_key) for run in job_runs]
    assert {run.status for run in job_runs} == {RunStatus.SUCCEEDED}
    assert {run.executor for run in job_runs} == {"kubernetes"}
    names = {job["metadata"]["name"] for job in setup.double.list("batch/v1", "Job", NS)}
    assert names == {run_object_name("job", run.uuid) for run in job_runs}  # each child was a Job
    assert len(kubelet.done) == jobs  # and one pod each
    pipelines = [uuid, *(run.uuid for run in runs if run.kind in PIPELINE_KINDS)]
    assert not [name for name in names if any(p[:12] in name for p in pipelines)]
