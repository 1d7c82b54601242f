"""Creation is idempotent and a new executor adopts what an earlier one created: no duplicates,
the right final status, no log line twice; objects that vanished meanwhile fail the run clearly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.executors.kubernetes.fixtures import MakeKube
from tests.executors.kubernetes.support import NS, eventually, job_plan, pod_names
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.compiler.plan import Plan
from mizzen.executors.base import RunRef
from mizzen.executors.kubernetes import LogPosition, OwnedRun
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus
AGENT = Path(__file__).with_name("agent_process.py")


def _posts(double: K8sDouble, plural: str) -> int:
    return sum(
        1
        for method, path in double.requests
        if method == "POST" and path.split("?")[0].endswith(f"/{plural}")
    )


class AgentProcess:
    """The executor in a child process, its reports read line by line."""

    def __init__(self, kubeconfig: Path, run: RunRef, plan: Plan) -> None:
        self.reports: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, str(AGENT), str(kubeconfig), json.dumps(asdict(run)), plan.model_dump_json()],
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.reports.append(json.loads(line))
                self._cond.notify_all()

    def wait_for(self, **fields: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((r for r in self.reports if all(r.get(k) == v for k, v in fields.items())), None)

        with self._cond:
            assert self._cond.wait_for(found, 30), f"{fields} not reported; got {self.reports}"
            return found()  # type: ignore[return-value]

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def test_submitting_the_same_run_twice_creates_one_set_of_objects(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run, plan = new_run(token="tok"), job_plan()
    first = make_kube()
    first.submit(run, plan)
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    first.close()  # gone without cleaning anything up
    second = make_kube()
    second.submit(run, plan)  # a scheduler that retried the submission
    assert _posts(k8s_double, "jobs") == 2 and _posts(k8s_double, "secrets") == 2  # the second got 409s
    assert len(k8s_double.list("batch/v1", "Job", NS)) == 1
    assert len(k8s_double.list("v1", "Secret", NS, label_selector=f"mizzen.dev/run-uuid={run.uuid}")) == 1
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert second.wait(run.uuid, 30) == S.SUCCEEDED
    assert k8s_double.pods_of(NS, "Job", job) and len(k8s_double.pods_of(NS, "Job", job)) == 1


def test_an_object_of_another_run_under_the_same_name_is_a_clear_failure(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    squatter = new_run(uuid=run.uuid[:12] + "f" * 20)  # same first 12 digits, another run
    make_kube().submit(squatter, job_plan())
    kube = make_kube()
    kube.submit(run, job_plan())
    assert kube.wait(run.uuid, 10) == S.FAILED
    final = recorder.last(run.uuid)
    assert final.reason == "not submitted"
    assert final.message and f"belongs to run {squatter.uuid}" in final.message


def test_an_executor_killed_mid_run_is_replaced_without_duplicates_or_repeated_lines(
    make_kube: MakeKube, k8s_double: K8sDouble, k8s_kubeconfig: Path, recorder: Recorder
) -> None:
    run, plan = new_run(token="tok"), job_plan()
    agent = AgentProcess(k8s_kubeconfig, run, plan)
    try:
        agent.wait_for(kind="status", status="scheduled")
        job = run_object_name("job", run.uuid)
        (pod,) = pod_names(k8s_double, "Job", job)
        k8s_double.set_pod_phase(NS, pod, "Running")
        agent.wait_for(kind="status", status="running")
        k8s_double.append_log(NS, pod, "mizzen-main", "before the kill\n")
        seen = agent.wait_for(kind="log", line="before the kill")
    finally:
        agent.kill()
    k8s_double.append_log(NS, pod, "mizzen-main", "while nobody watched\n")
    k8s_double.set_pod_phase(NS, pod, "Failed", exit_code=2)

    kube = make_kube()
    stored = LogPosition(newest=seen["timestamp"], streams={("main", None): (seen["timestamp"], 1)})
    kube.adopt([OwnedRun(run, plan, S.RUNNING, logs=stored)])
    assert kube.wait(run.uuid, 30) == S.FAILED
    assert recorder.statuses(run.uuid) == [S.FAILED]
    assert recorder.last(run.uuid).reason == "exit code 2"
    assert recorder.lines(run.uuid, "main") == ["while nobody watched"]
    assert _posts(k8s_double, "jobs") == 1
    assert len(k8s_double.pods_of(NS, "Job", job)) == 1


def test_adopting_a_running_run_follows_it_to_the_end(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run, plan = new_run(), job_plan()
    make_kube(events=Recorder()).submit(run, plan)
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, pod, "Running")
    kube = make_kube()
    kube.adopt([OwnedRun(run, plan, S.RUNNING)])
    k8s_double.append_log(NS, pod, "mizzen-main", "still going\n")
    recorder.wait_for(lambda: recorder.lines(run.uuid, "main") == ["still going"])
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.statuses(run.uuid) == [S.SUCCEEDED]  # nothing reported twice
    assert _posts(k8s_double, "jobs") == 1


def test_a_run_whose_objects_vanished_while_nobody_watched_fails(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run, plan = new_run(), job_plan()
    make_kube(events=Recorder()).submit(run, plan)
    job = run_object_name("job", run.uuid)
    k8s_double.delete("batch/v1", "Job", job, NS, policy="Foreground")
    kube = make_kube()
    kube.adopt([OwnedRun(run, plan, S.RUNNING)])
    assert kube.wait(run.uuid, 10) == S.FAILED
    final = recorder.last(run.uuid)
    assert final.reason == f"lost: Job {job}"
    assert final.message and "deleted while no Mizzen agent was watching" in final.message
    assert _posts(k8s_double, "jobs") == 1  # not recreated


def test_a_run_owned_but_never_submitted_is_submitted_on_adoption(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run, plan = new_run(), job_plan()
    kube = make_kube()
    kube.adopt([OwnedRun(run, plan, S.QUEUED)])
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.statuses(run.uuid)[0] == S.SCHEDULED  # it was queued already: not said again


def test_the_objects_deleted_behind_an_active_run_fail_it(
    kube: Any, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan())
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    k8s_double.delete("batch/v1", "Job", job, NS, policy="Background")
    assert kube.wait(run.uuid, 30) == S.FAILED
    assert recorder.last(run.uuid).reason == f"deleted outside Mizzen: Job {job}"
    eventually(lambda: k8s_double.get("v1", "Pod", pod, NS) is None)
