"""Ray and Dask runs: statuses from the operators' objects, through the executor."""

from __future__ import annotations

from tests.executors.kubernetes.support import (
    NS,
    assert_transitions_valid,
    dask_plan,
    ray_plan,
    run_pods,
)
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_a_ray_cluster_runs_when_ready_and_stops(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, ray_plan(workers=1))
    pods = run_pods(k8s_double, run.uuid, 2)
    for pod in pods:
        k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    kube.stop(run.uuid, grace_seconds=1)
    assert kube.wait(run.uuid, 30) == S.STOPPED
    assert k8s_double.get("ray.io/v1", "RayCluster", run_object_name("raycluster", run.uuid), NS) is None
    assert_transitions_valid(recorder.statuses(run.uuid))


def test_a_dask_job_succeeds_when_its_runner_does(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, dask_plan(with_job=True))
    assert k8s_double.get("kubernetes.dask.org/v1", "DaskJob", run_object_name("daskcluster", run.uuid), NS)
    cluster_pods = run_pods(k8s_double, run.uuid, 2)
    for pod in cluster_pods:
        k8s_double.set_pod_phase(NS, pod, "Running")
    runner = next(p for p in run_pods(k8s_double, run.uuid, 3) if p not in cluster_pods)
    k8s_double.set_pod_phase(NS, runner, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    k8s_double.set_pod_phase(NS, runner, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert_transitions_valid(recorder.statuses(run.uuid))
