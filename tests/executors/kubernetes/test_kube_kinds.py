"""A service (Deployment + Service) and a pytorchjob with 2 workers through the executor."""

from __future__ import annotations

from tests.executors.kubernetes.support import (
    NS,
    assert_transitions_valid,
    eventually,
    pod_names,
    pytorch_plan,
    service_plan,
)
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_a_service_runs_once_available_and_stops_when_asked(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, service_plan(port=8080, replicas=2))
    name = run_object_name("service", run.uuid)
    assert k8s_double.get("v1", "Service", name, NS) is not None
    pods = pod_names(k8s_double, "Deployment", name, 2)
    k8s_double.set_pod_phase(NS, pods[0], "Running")
    recorder.wait_status(run.uuid, S.STARTING)  # one of two replicas ready: not available yet
    k8s_double.set_pod_phase(NS, pods[1], "Running")
    running = recorder.wait_status(run.uuid, S.RUNNING)
    assert running.message == "service available: 2/2 replicas ready"
    k8s_double.append_log(NS, pods[1], "mizzen-main", "Serving HTTP on 0.0.0.0 port 8080\n")
    recorder.wait_for(lambda: "Serving HTTP on 0.0.0.0 port 8080" in recorder.lines(run.uuid, "main"))
    kube.stop(run.uuid, grace_seconds=1)
    assert kube.wait(run.uuid, 30) == S.STOPPED
    assert recorder.statuses(run.uuid)[-2:] == [S.STOPPING, S.STOPPED]
    for kind, api_version in (("Deployment", "apps/v1"), ("Service", "v1")):
        assert k8s_double.get(api_version, kind, name, NS) is None
    assert k8s_double.list("v1", "Pod", NS, label_selector=f"mizzen.dev/run-uuid={run.uuid}") == []
    assert_transitions_valid(recorder.statuses(run.uuid))


def test_a_pytorchjob_with_two_workers_succeeds_with_logs_per_replica(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, pytorch_plan(workers=2))
    name = run_object_name("pytorchjob", run.uuid)
    pods = pod_names(k8s_double, "PyTorchJob", name, 3)
    assert sorted(pods) == [f"{name}-master-0", f"{name}-worker-0", f"{name}-worker-1"]
    for pod in pods:
        k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    for pod in pods:
        k8s_double.append_log(NS, pod, "pytorch", f"hello from {pod}\n")
    for pod in pods[1:] + pods[:1]:  # the workers end first, then the master
        k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    lines = {(line.replica, line.container, line.line) for line in recorder.log_lines(run.uuid)}
    for pod in pods:
        replica = pod.removeprefix(f"{name}-")
        assert (replica, "main", f"hello from {pod}") in lines
    assert_transitions_valid(recorder.statuses(run.uuid))


def test_a_pytorchjob_fails_with_the_failing_replica_named(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, pytorch_plan(workers=2))
    name = run_object_name("pytorchjob", run.uuid)
    pods = pod_names(k8s_double, "PyTorchJob", name, 3)
    for pod in pods:
        k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.set_pod_phase(NS, f"{name}-worker-1", "Failed", exit_code=137)
    assert kube.wait(run.uuid, 30) == S.FAILED
    final = recorder.last(run.uuid)
    assert final.reason == "exit code 137"
    assert final.message and final.message.startswith("worker-1: ")
    eventually(lambda: k8s_double.get("kubeflow.org/v1", "PyTorchJob", name, NS), what="the job stays (ttl)")
