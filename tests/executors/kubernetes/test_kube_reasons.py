"""Why is my run pending / why did it fail: every scripted cluster scenario, mapped to a status and a
human reason, through the executor's watch of the API double."""

from __future__ import annotations

from kubernetes import client
from tests.executors.kubernetes.fixtures import MakeKube
from tests.executors.kubernetes.support import (
    NS,
    assert_transitions_valid,
    eventually,
    gpu_plan,
    job_plan,
    pod_names,
)
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.compiler.plan import TerminationPlan
from mizzen.executors.kubernetes import KubernetesExecutor, Timeouts
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def _started(kube: KubernetesExecutor, double: K8sDouble, **plan_options: object) -> tuple[str, str]:
    run = new_run()
    plan = plan_options.pop("plan", None) or job_plan(**plan_options)  # type: ignore[arg-type]
    kube.submit(run, plan)  # type: ignore[arg-type]
    (pod,) = pod_names(double, "Job", run_object_name("job", run.uuid))
    return run.uuid, pod


def test_unschedulable_says_which_resource_is_short_and_recovers(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    uuid, pod = _started(kube, k8s_double, plan=gpu_plan())
    k8s_double.make_unschedulable(NS, pod, "nvidia.com/gpu")
    event = recorder.wait_status(uuid, S.UNSCHEDULABLE)
    assert event.reason == "unschedulable: 0/5 nodes are available: 5 Insufficient nvidia.com/gpu."
    assert event.message and "preemption" in event.message  # the full scheduler message
    recorder.wait_for(lambda: any("FailedScheduling" in line for line in recorder.lines(uuid, "events")))
    k8s_double.add_node("gpu-node", gpus=8)
    k8s_double.set_pod_phase(NS, pod, "Running", node="gpu-node")
    recorder.wait_status(uuid, S.RUNNING)
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(uuid, 30) == S.SUCCEEDED
    assert_transitions_valid(recorder.statuses(uuid))


def test_image_pull_backoff_warns_then_fails_after_the_pull_timeout(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    patient = make_kube()
    uuid, pod = _started(patient, k8s_double)
    k8s_double.image_pull_backoff(NS, pod)
    warning = recorder.wait_status(uuid, S.WARNING)
    assert warning.reason == 'image pull failed: ImagePullBackOff: Back-off pulling image "python:3.12-slim"'
    assert patient.wait(uuid, 0.3) is None  # still waiting for the registry
    patient.close()

    impatient = make_kube(timeouts=Timeouts(image_pull=0.0))
    uuid, pod = _started(impatient, k8s_double)
    k8s_double.image_pull_backoff(NS, pod)
    assert impatient.wait(uuid, 30) == S.FAILED
    assert (
        recorder.last(uuid).reason
        == 'image pull failed: ImagePullBackOff: Back-off pulling image "python:3.12-slim"'
    )
    job = run_object_name("job", uuid)
    eventually(lambda: k8s_double.get("batch/v1", "Job", job, NS) is None, what="job deleted")
    assert_transitions_valid(recorder.statuses(uuid))


def test_crash_loop_is_a_warning_naming_the_container(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    uuid, pod = _started(kube, k8s_double)
    k8s_double.crash_loop_backoff(NS, pod, restarts=3)
    warning = recorder.wait_status(uuid, S.WARNING)
    assert warning.reason == "crash loop: main restarted 3 times"
    assert warning.message and "exit code 1" in warning.message


def test_oom_killed(kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder) -> None:
    uuid, pod = _started(kube, k8s_double, memory="64Mi")
    k8s_double.oom_kill(NS, pod)
    assert kube.wait(uuid, 30) == S.FAILED
    assert recorder.last(uuid).reason == "OOMKilled: container main exceeded its memory limit"
    assert recorder.statuses(uuid)[-3:] == [S.STARTING, S.RUNNING, S.FAILED]


def test_evicted(kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder) -> None:
    uuid, pod = _started(kube, k8s_double)
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.evict(NS, pod)
    assert kube.wait(uuid, 30) == S.FAILED
    final = recorder.last(uuid)
    assert final.reason and final.reason.startswith("evicted: The node was low on resource: memory.")
    assert any("Evicted" in line for line in recorder.lines(uuid, "events"))


def test_node_lost_warns_while_the_node_is_silent(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    uuid, pod = _started(kube, k8s_double)
    k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(uuid, S.RUNNING)
    k8s_double.lose_node(NS, pod, evict=False)
    warning = recorder.wait_status(uuid, S.WARNING)
    assert warning.reason == "node lost"
    assert warning.message and "is unresponsive" in warning.message


def test_node_lost_and_evicted_retries_on_another_pod(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    uuid, pod = _started(kube, k8s_double, termination=TerminationPlan(max_retries=1))
    k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(uuid, S.RUNNING)
    k8s_double.lose_node(NS, pod, evict=True)
    retrying = recorder.wait_status(uuid, S.RETRYING)
    assert retrying.reason == "node lost"
    (replacement,) = pod_names(k8s_double, "Job", run_object_name("job", uuid))
    assert replacement != pod
    k8s_double.set_pod_phase(NS, replacement, "Running", node="node-2")
    k8s_double.set_pod_phase(NS, replacement, "Succeeded")
    assert kube.wait(uuid, 30) == S.SUCCEEDED
    assert_transitions_valid(recorder.statuses(uuid))


def test_deadline_exceeded(kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder) -> None:
    uuid, pod = _started(kube, k8s_double, termination=TerminationPlan(timeout=2))
    k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(uuid, S.RUNNING)
    job = run_object_name("job", uuid)
    # The double's Job controller does not keep time: play its part, as the real one reports it.
    condition = {
        "status": "True",
        "reason": "DeadlineExceeded",
        "message": "Job was active longer than specified deadline",
    }
    with k8s_double.api_client() as api:
        client.BatchV1Api(api).patch_namespaced_job_status(
            job,
            NS,
            {
                "status": {
                    "conditions": [{"type": "FailureTarget", **condition}, {"type": "Failed", **condition}]
                }
            },
        )
    assert kube.wait(uuid, 30) == S.FAILED
    final = recorder.last(uuid)
    assert final.reason == "deadline exceeded: timeout after 2s"
    assert final.message == "Job was active longer than specified deadline"


def test_an_invalid_image_name_fails_at_once(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    uuid, pod = _started(kube, k8s_double)
    k8s_double.schedule_pod(NS, pod)
    stored = k8s_double.get("v1", "Pod", pod, NS)
    assert stored is not None
    waiting = {"reason": "InvalidImageName", "message": 'Failed to apply default image tag "Bad//Name"'}
    statuses = [
        {"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "restartCount": 0,
         "started": False, "state": {"waiting": waiting}}
        for c in stored["spec"]["containers"]
    ]  # fmt: skip
    with k8s_double.api_client() as api:  # what the kubelet reports, through the status subresource
        client.CoreV1Api(api).patch_namespaced_pod_status(
            pod, NS, {"status": {"containerStatuses": statuses}}
        )
    assert kube.wait(uuid, 30) == S.FAILED  # the default pull timeout is 300s: no waiting for this one
    final = recorder.last(uuid)
    assert (
        final.reason == 'image pull failed: InvalidImageName: Failed to apply default image tag "Bad//Name"'
    )
