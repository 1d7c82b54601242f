"""The orchestration examples through the Kubernetes executor: each is submitted as a user does
(`mizzen run -f examples/... --detach`) to `mizzen server` (executor kubernetes), whose pipeline
driver creates the children; `mizzen agent` runs every child as a Job on the Kubernetes API double.

Pods in the double run no container, so the test plays the kubelet, and for the children's code:
- ``TrainingKubelet``: for each new pod it logs what the example's script would (the outputs `rows`,
  `score`, `loss`, `accuracy` and the metric `loss`, through the API as `mizzen.tracking` does),
  then moves the pod Pending -> Running -> Succeeded;
- ``SteppedTrainingKubelet`` (the TPE sweep): each pod trains over several epochs, logging `loss`
  at each step from the trial's params, so the sweep's median early stopping acts on running trials
  (the agent deletes the Job of a stopped trial: its pod stops with it);
- ``ProcessKubelet`` (the iterative sweep): runs each pod's main container as a real process with
  the pod's env (the built-in tuner `python -m mizzen.cli.random_tuner` and the trials' own code),
  which report through the API themselves.
What it proves: the example compiles and renders for Kubernetes, each child becomes a Job whose
pod's end drives the pipeline (DAG edges and upstream outputs, hyperband's rungs by the metric, TPE
with early stopping, the iterative tuner's suggestions, the schedule's ticks, the sweep inside a DAG),
and the pipeline ends `succeeded` with no Kubernetes object of its own."""

from __future__ import annotations

import math
import random
import re
import time
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml
from tests.agent.cluster import NS, Installation
from tests.agent.kubelet import run_main_container
from tests.agent.support import eventually
from tests.agent.test_agent_pipelines import ServerProcess, server  # noqa: F401  (server: a fixture)

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.schemas.api import RunRead
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_UUID_LABEL = "mizzen.dev/run-uuid"
PIPELINE_KINDS = {"matrix", "dag", "schedule"}


class Kubelet(Protocol):
    done: set[str]

    def step(self) -> None: ...


def new_pods(setup: Installation, seen: set[str]) -> list[tuple[str, str]]:
    """(pod name, run uuid) of the pods not seen yet and not being deleted."""
    found = []
    for pod in setup.double.list("v1", "Pod", NS):
        name = pod["metadata"]["name"]
        if name not in seen and "deletionTimestamp" not in pod["metadata"]:
            found.append((name, pod["metadata"]["labels"][RUN_UUID_LABEL]))
    return found


class TrainingKubelet:
    """Each new pod: log what the example's code would, then run and succeed it."""

    def __init__(self, setup: Installation, client: MizzenClient) -> None:
        self.setup = setup
        self.client = client
        self.rng = random.Random(3)
        self.done: set[str] = set()

    def step(self) -> None:
        for name, uuid in new_pods(self.setup, self.done):
            self.done.add(name)
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


class SteppedTrainingKubelet:
    """Each new pod trains for ``epochs`` steps of ``interval`` seconds, logging the metric `loss` at
    each: it falls from twice to once the trial's final loss, a function of its `lr` and `alpha`
    with an optimum inside the search space. At the last step it logs the outputs and succeeds; a
    pod deleted meanwhile (its trial stopped) trains no further."""

    def __init__(self, setup: Installation, client: MizzenClient, epochs: int = 6, interval: float = 0.4):
        self.setup, self.client = setup, client
        self.epochs, self.interval = epochs, interval
        self.training: dict[str, tuple[str, float, float, int]] = {}  # pod: uuid, final, started, steps
        self.done: set[str] = set()

    @staticmethod
    def final_loss(params: dict[str, Any]) -> float:
        return 0.1 + (math.log(params["lr"]) + 3) ** 2 / 20 + (math.log(params["alpha"]) + 7) ** 2 / 50

    def step(self) -> None:
        for name, uuid in new_pods(self.setup, self.done | set(self.training)):
            self.setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
            self.setup.double.set_pod_phase(NS, name, "Running")
            final = self.final_loss(self.client.runs.get(uuid).params)
            self.training[name] = (uuid, final, time.monotonic(), 0)
        alive = {pod["metadata"]["name"] for pod in self.setup.double.list("v1", "Pod", NS)}
        for name, (uuid, final, started, steps) in list(self.training.items()):
            pod = self.setup.double.get("v1", "Pod", name, NS)
            if name not in alive or pod is None or "deletionTimestamp" in pod["metadata"]:
                del self.training[name]  # stopped: the agent deleted its Job
                self.done.add(name)
                continue
            due = min(int((time.monotonic() - started) / self.interval), self.epochs)
            for epoch in range(steps + 1, due + 1):
                loss = round(final * (1 + 1 / epoch), 4)
                point = {"name": "loss", "value": loss, "step": epoch, "timestamp": time.time()}
                self.client.metrics.log(uuid, [point])
            self.training[name] = (uuid, final, started, due)
            if due == self.epochs:
                last = round(final * (1 + 1 / self.epochs), 4)  # the last epoch's loss
                self.client.runs.update(uuid, outputs={"loss": last, "accuracy": max(0.0, 1 - last)})
                self.setup.double.set_pod_phase(NS, name, "Succeeded")
                del self.training[name]
                self.done.add(name)


class ProcessKubelet:
    """Each new pod: run its main container as a process (``run_main_container``), then succeed it."""

    def __init__(self, setup: Installation) -> None:
        self.setup = setup
        self.done: set[str] = set()
        self.outputs: dict[str, str] = {}

    def step(self) -> None:
        for name, _uuid in new_pods(self.setup, self.done):
            self.done.add(name)
            self.setup.double.set_pod_phase(NS, name, "Pending", node="node-1")
            self.setup.double.set_pod_phase(NS, name, "Running")
            ran = run_main_container(self.setup.double, name, self.setup.root / "pods")
            assert ran.returncode == 0, (name, ran.stdout, ran.stderr)
            self.outputs[name] = ran.stdout
            self.setup.double.set_pod_phase(NS, name, "Succeeded")


def submit(setup: Installation, path: Path, project: str) -> str:
    """`mizzen run -f PATH --detach`, as a user does: the pipeline's uuid."""
    submitted = setup.mizzen("run", "-f", str(path), "--detach", "-p", project)
    assert submitted.returncode == 0, (submitted.stdout, submitted.stderr)
    found = re.search(r"\b[0-9a-f]{32}\b", submitted.stdout)
    assert found, submitted.stdout
    return found.group(0)


def run_to_the_end(client: MizzenClient, uuid: str, kubelet: Kubelet, what: str) -> RunRead:
    def ended() -> RunRead | None:
        kubelet.step()
        run = client.runs.get(uuid)
        return run if run.status in DONE_STATUSES else None

    return eventually(ended, f"{what} ends", timeout=300, interval=0.1)


def job_names(setup: Installation) -> set[str]:
    return {job["metadata"]["name"] for job in setup.double.list("batch/v1", "Job", NS)}


def assert_no_object_of_the_pipelines(setup: Installation, uuid: str, runs: list[RunRead]) -> None:
    pipelines = [uuid, *(run.uuid for run in runs if run.kind in PIPELINE_KINDS)]
    names = job_names(setup) | {pod["metadata"]["name"] for pod in setup.double.list("v1", "Pod", NS)}
    assert not [name for name in names if any(p[:12] in name for p in pipelines)]


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
    uuid = submit(setup, EXAMPLES / example, project)
    with MizzenClient(server.url) as client:
        kubelet = TrainingKubelet(setup, client)
        pipeline = run_to_the_end(client, uuid, kubelet, example)
        runs = descendants(client, uuid)
    assert pipeline.kind == kind
    assert pipeline.status == RunStatus.SUCCEEDED, (pipeline.status, [(r.name, r.status) for r in runs])
    job_runs = [run for run in runs if run.kind not in PIPELINE_KINDS]
    assert len(job_runs) == jobs, [(run.name, run.pipeline_key) for run in job_runs]
    assert {run.status for run in job_runs} == {RunStatus.SUCCEEDED}
    assert {run.executor for run in job_runs} == {"kubernetes"}
    assert job_names(setup) == {run_object_name("job", run.uuid) for run in job_runs}  # each child a Job
    assert len(kubelet.done) == jobs  # and one pod each
    assert_no_object_of_the_pipelines(setup, uuid, runs)


def test_the_weekday_report_cron_schedule_runs_through_the_agent(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
) -> None:
    """examples/schedules/weekday-report.yaml fires at 09:00 Paris time on weekdays from 2027: no
    test can wait for that. The test runs a copy of it with only its timing changed: the same
    time-zone-aware cron with a seconds field (`CRON_TZ=Europe/Paris * * * * * */2`: every 2 s, any
    day), no `startAt`, and `maxRuns: 3` (of 20); its `dependsOnPast: true`, inputs and component are
    the example's. (Which instants the real cron picks is tested on a virtual clock in
    tests/scheduler/schedules/test_schedule_examples.py.)"""
    setup = installation
    setup.start_agent()
    spec = yaml.safe_load((EXAMPLES / "schedules" / "weekday-report.yaml").read_text())
    assert spec["schedule"]["cron"] == "CRON_TZ=Europe/Paris 0 9 * * MON-FRI"
    assert spec["schedule"]["dependsOnPast"] is True
    spec["schedule"].pop("startAt")
    spec["schedule"].update(cron="CRON_TZ=Europe/Paris * * * * * */2", maxRuns=3)
    path = setup.write_polyaxonfile("weekday-report.yaml", spec)
    uuid = submit(setup, path, "weekday-report")
    with MizzenClient(server.url) as client:
        kubelet = TrainingKubelet(setup, client)
        pipeline = run_to_the_end(client, uuid, kubelet, "the weekday report")
        ticks = descendants(client, uuid)
    assert pipeline.kind == "schedule"
    assert pipeline.status == RunStatus.SUCCEEDED, (pipeline.status, [(r.name, r.status) for r in ticks])
    assert len(ticks) == 3 and {run.status for run in ticks} == {RunStatus.SUCCEEDED}
    assert len({run.pipeline_key for run in ticks}) == 3  # three ticks, each once
    assert {run.executor for run in ticks} == {"kubernetes"}
    assert job_names(setup) == {run_object_name("job", run.uuid) for run in ticks}
    for job in setup.double.list("batch/v1", "Job", NS):
        args = job["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[0].startswith("print('report for team, due 20")  # the tick's instant, rendered
    assert_no_object_of_the_pipelines(setup, uuid, ticks)


def test_the_tpe_example_stops_trials_early_through_the_agent(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
) -> None:
    """examples/sweeps/tpe.yaml as it is: 20 trials by optuna's TPE, 2 at a time, under median
    early stopping (judged after 1 s of running against 3 other trials). Each trial's pod logs `loss`
    over 6 epochs; the trials worse than the median are stopped while running (their Jobs deleted)."""
    setup = installation
    setup.start_agent()
    uuid = submit(setup, EXAMPLES / "sweeps" / "tpe.yaml", "tpe")
    with MizzenClient(server.url) as client:
        kubelet = SteppedTrainingKubelet(setup, client)
        sweep = run_to_the_end(client, uuid, kubelet, "the TPE sweep")
        trials = descendants(client, uuid)
        stopped = [run for run in trials if run.status == RunStatus.STOPPED]
        why = {run.uuid: [c.message or "" for c in client.statuses.list(run.uuid)] for run in stopped}
    assert sweep.kind == "matrix"
    assert sweep.status == RunStatus.SUCCEEDED, (sweep.status, [(r.name, r.status) for r in trials])
    assert sorted(run.meta["trial"]["index"] for run in trials) == list(range(20))  # numRuns, each once
    assert {run.executor for run in trials} == {"kubernetes"}
    assert {run.status for run in trials} == {RunStatus.SUCCEEDED, RunStatus.STOPPED}
    assert stopped, "median stopping stopped no trial"
    for run in stopped:  # each shows why: the policy's verdict on its loss so far
        verdicts = [m for m in why[run.uuid] if re.match(r"median stopping at interval \d+: best loss=", m)]
        assert verdicts, why[run.uuid]
    succeeded = [run for run in trials if run.status == RunStatus.SUCCEEDED]
    best = sweep.meta["pipeline"]["best"]
    best_trial = min(succeeded, key=lambda run: run.outputs["loss"])
    print(
        f"TPE through the agent: {len(trials)} trials, {len(succeeded)} succeeded, {len(stopped)} "
        f"stopped early by median stopping; best {best_trial.uuid} loss={best_trial.outputs['loss']}"
    )
    assert best["metric"] == best_trial.outputs["loss"] == sweep.outputs["loss"]
    assert best["uuid"] == best_trial.uuid
    shown = setup.mizzen("ops", "get", uuid)
    assert shown.returncode == 0 and best_trial.uuid[:8] in shown.stdout, shown.stdout
    assert len(kubelet.done) == 20  # one pod each
    assert_no_object_of_the_pipelines(setup, uuid, trials)


def test_the_iterative_example_runs_its_tuner_as_a_pod_through_the_agent(
    installation: Installation,
    server: ServerProcess,  # noqa: F811
) -> None:
    """examples/sweeps/iterative.yaml as it is: each iteration, the built-in tuner (hub
    `mizzen-random-tuner`) is a child run, a Job of the agent's like the trials; its pod's container
    runs for real here (as do the trials'), reads the finished trials from its env and logs its
    suggestions through the API, which become the next trials."""
    setup = installation
    setup.start_agent()
    uuid = submit(setup, EXAMPLES / "sweeps" / "iterative.yaml", "iterative")
    with MizzenClient(server.url) as client:
        kubelet = ProcessKubelet(setup)
        sweep = run_to_the_end(client, uuid, kubelet, "the iterative sweep")
        children = descendants(client, uuid)
    assert sweep.status == RunStatus.SUCCEEDED, (sweep.status, [(r.name, r.status) for r in children])
    tuners = sorted((c for c in children if "tuner" in c.meta), key=lambda c: c.meta["tuner"]["iteration"])
    trials = sorted((c for c in children if "trial" in c.meta), key=lambda c: c.meta["trial"]["index"])
    assert [t.meta["tuner"]["iteration"] for t in tuners] == [0, 1, 2]
    assert [t.meta["trial"]["index"] for t in trials] == list(range(6))  # 2 suggestions an iteration
    assert {c.status for c in children} == {RunStatus.SUCCEEDED}
    assert {c.executor for c in children} == {"kubernetes"}
    suggested = [s for tuner in tuners for s in tuner.outputs["suggestions"]]
    assert [t.params["x"] for t in trials] == [s["x"] for s in suggested]
    assert all(t.outputs["loss"] == pytest.approx((t.params["x"] - 0.5) ** 2) for t in trials)
    assert job_names(setup) == {run_object_name("job", c.uuid) for c in children}  # tuners too
    assert len(kubelet.done) == 9
    assert_no_object_of_the_pipelines(setup, uuid, children)
