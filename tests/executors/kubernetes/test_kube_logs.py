"""Logs stay complete when pods go away: stop, ttl cleanup, an operator's cleanPodPolicy."""

from __future__ import annotations

from tests.executors.kubernetes.support import NS, eventually, job_plan, pod_names, pytorch_plan
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.compiler.plan import DistributedPlan, TerminationPlan
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_stop_reads_every_line_even_those_written_while_terminating(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan())
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.append_log(NS, pod, "mizzen-main", "epoch 1\nepoch 2\n")
    recorder.wait_status(run.uuid, S.RUNNING)
    k8s_double.hold_pod_termination()
    kube.stop(run.uuid, grace_seconds=5)
    recorder.wait_status(run.uuid, S.STOPPING)
    eventually(
        lambda: (k8s_double.get("v1", "Pod", pod, NS) or {}).get("metadata", {}).get("deletionTimestamp")
    )
    assert kube.wait(run.uuid, 0.2) is None  # not stopped while its pod still terminates
    k8s_double.append_log(NS, pod, "mizzen-main", "caught SIGTERM, saving a checkpoint\n")
    k8s_double.finish_pod_termination(NS, pod)
    assert kube.wait(run.uuid, 30) == S.STOPPED
    assert recorder.lines(run.uuid, "main") == ["epoch 1", "epoch 2", "caught SIGTERM, saving a checkpoint"]
    assert k8s_double.get("batch/v1", "Job", job, NS) is None
    assert k8s_double.get("v1", "Pod", pod, NS) is None


def test_ttl_cleanup_comes_after_every_line_was_read(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan(termination=TerminationPlan(ttl=0)))
    job = run_object_name("job", run.uuid)
    stored = k8s_double.get("batch/v1", "Job", job, NS)
    assert stored is not None and stored["spec"]["ttlSecondsAfterFinished"] == 3600  # the cluster's backstop
    (pod,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.append_log(NS, pod, "mizzen-main", "".join(f"line {i}\n" for i in range(200)))
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    eventually(lambda: k8s_double.get("batch/v1", "Job", job, NS) is None, what="the job deleted at its ttl")
    eventually(lambda: k8s_double.get("v1", "Pod", pod, NS) is None, what="its pod deleted with it")
    assert recorder.lines(run.uuid, "main") == [f"line {i}" for i in range(200)]


def test_logs_of_pods_an_operator_deletes_at_completion_are_complete(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    plan = pytorch_plan(workers=1).model_copy(update={"distributed": DistributedPlan(clean_pod_policy="All")})
    run = new_run()
    kube.submit(run, plan)
    name = run_object_name("pytorchjob", run.uuid)
    pods = pod_names(k8s_double, "PyTorchJob", name, 2)
    for pod in pods:
        k8s_double.set_pod_phase(NS, pod, "Running")
    for pod in pods:
        k8s_double.append_log(NS, pod, "pytorch", f"started {pod}\n")
    recorder.wait_for(lambda: len(recorder.lines(run.uuid, "main")) == 2)  # both streams are followed
    for pod in pods:
        k8s_double.append_log(NS, pod, "pytorch", f"final words of {pod}\n")
    k8s_double.set_pod_phase(NS, f"{name}-worker-0", "Succeeded")
    k8s_double.set_pod_phase(NS, f"{name}-master-0", "Succeeded")  # the operator deletes every pod now
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert k8s_double.pods_of(NS, "PyTorchJob", name) == []
    expected = [f"{what} {pod}" for pod in pods for what in ("started", "final words of")]
    assert sorted(recorder.lines(run.uuid, "main")) == sorted(expected)


def test_init_and_sidecar_containers_are_read_too(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run(token="t")
    kube.submit(run, job_plan())
    (pod,) = pod_names(k8s_double, "Job", run_object_name("job", run.uuid))
    k8s_double.append_log(NS, pod, "mizzen-sidecar", "sidecar up\n")
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.lines(run.uuid, "mizzen-sidecar") == ["sidecar up"]
