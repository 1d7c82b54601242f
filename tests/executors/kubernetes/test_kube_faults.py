"""Faults between the executor and the API: dropped watches, 410 Gone, 429 and 5xx answers."""

from __future__ import annotations

import threading

from tests.executors.kubernetes.fixtures import MakeKube
from tests.executors.kubernetes.support import NS, eventually, gpu_plan, job_plan, pod_names
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


class Gate:
    """An adapter ``sleep`` that holds a retrying call until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.entered.set()
        assert self.release.wait(30), "the test never released the gate"


def _unschedulable_run(kube: KubernetesExecutor, double: K8sDouble, recorder: Recorder) -> tuple[str, str]:
    run = new_run()
    kube.submit(run, gpu_plan())
    (pod,) = pod_names(double, "Job", run_object_name("job", run.uuid))
    double.make_unschedulable(NS, pod)
    recorder.wait_status(run.uuid, S.UNSCHEDULABLE)
    return run.uuid, pod


def test_a_410_after_a_missed_change_relists_and_corrects_the_status(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    gate = Gate()
    kube = make_kube(sleep=gate)
    uuid, pod = _unschedulable_run(kube, k8s_double, recorder)
    watcher = kube.watchers["pods"]
    lists = watcher.lists
    k8s_double.inject_fault(503, path="/pods$", watch=True, count=1)
    k8s_double.drop_watches("close")  # a clean end: the watcher resumes from its resourceVersion...
    assert gate.entered.wait(10)  # ...and its first try is held here
    k8s_double.add_node("gpu-node", gpus=8)
    k8s_double.set_pod_phase(NS, pod, "Running", node="gpu-node")  # missed: nobody watches pods now
    k8s_double.expire_watch_history()
    gate.release.set()  # the resume now gets 410 Gone: list again
    recorder.wait_status(uuid, S.RUNNING)
    assert watcher.lists == lists + 1
    assert recorder.statuses(uuid)[-2:] == [S.STARTING, S.RUNNING]


def test_a_dropped_watch_relists_and_nothing_stays_wrong(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    gate = Gate()
    kube = make_kube(sleep=gate, watch_error_pause=0.01)
    uuid, pod = _unschedulable_run(kube, k8s_double, recorder)
    watcher = kube.watchers["pods"]
    lists = watcher.lists
    k8s_double.inject_fault(503, path="/pods$", watch=False, count=1)
    k8s_double.drop_watches("reset")  # the connection breaks mid-stream: list again...
    assert gate.entered.wait(10)  # ...the list is answered 503 and its retry held here
    k8s_double.add_node("gpu-node", gpus=8)
    k8s_double.set_pod_phase(NS, pod, "Running", node="gpu-node")
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    gate.release.set()
    assert kube.wait(uuid, 30) == S.SUCCEEDED
    assert watcher.lists == lists + 1
    assert recorder.statuses(uuid)[-3:] == [S.STARTING, S.RUNNING, S.SUCCEEDED]


def test_bookmarks_move_the_resume_point(kube: KubernetesExecutor, k8s_double: K8sDouble) -> None:
    run = new_run()
    kube.submit(run, job_plan())
    k8s_double.wait_for_watches(3)
    watcher = kube.watchers["pods"]
    k8s_double.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated"}})
    before = int(watcher.resource_version)
    assert k8s_double.send_bookmarks() >= 3
    current = k8s_double.store.resource_version
    eventually(lambda: int(watcher.resource_version) == current, what="the bookmark's resourceVersion")
    assert int(watcher.resource_version) > before and watcher.bookmarks >= 1


def test_throttled_and_unavailable_answers_are_retried_at_submit(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    waits: list[float] = []
    kube = make_kube(sleep=waits.append)
    run = new_run(token="t")
    k8s_double.inject_fault(429, method="POST", path="/secrets$", retry_after=3)
    k8s_double.inject_fault(503, method="POST", path="/jobs$", count=2)
    kube.submit(run, job_plan())
    recorder.wait_status(run.uuid, S.SCHEDULED)
    assert waits[0] == 3.0  # Retry-After honoured
    assert len(waits) == 3 and all(wait < 1 for wait in waits[1:])  # then a short backoff
    assert len(k8s_double.list("batch/v1", "Job", NS)) == 1


def test_an_api_that_keeps_failing_fails_the_submission_clearly(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    kube = make_kube(sleep=lambda seconds: None)
    run = new_run()
    k8s_double.inject_fault(500, method="POST", path="/jobs$", count=100)
    kube.submit(run, job_plan())
    assert kube.wait(run.uuid, 10) == S.FAILED
    final = recorder.last(run.uuid)
    assert final.reason == "not submitted"
    assert final.message and "500 InternalError" in final.message
