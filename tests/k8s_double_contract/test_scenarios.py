"""Scripted pod scenarios, observed the way an agent would: pod status, events and the owner's status."""

from __future__ import annotations

from typing import Any

from kubernetes import client, watch

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl


def _gpu_job(double: K8sDouble, restart_policy: str = "Never") -> str:
    double.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "train"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": restart_policy,
                        "containers": [
                            {
                                "name": "main",
                                "image": "pytorch/pytorch:2.4",
                                "resources": {"limits": {"nvidia.com/gpu": "1"}},
                            }
                        ],
                    }
                },
            },
        }
    )
    (pod,) = double.pods_of("default", "Job", "train")
    return str(pod["metadata"]["name"])


def _condition(pod: Any, kind: str) -> Any:
    return next(c for c in pod.status.conditions if c.type == kind)


def test_unschedulable_for_lack_of_gpus(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    name = _gpu_job(k8s_double)
    k8s_double.make_unschedulable("default", name)
    pod = core.read_namespaced_pod(name, "default")
    scheduled = _condition(pod, "PodScheduled")
    assert (pod.status.phase, scheduled.status, scheduled.reason) == ("Pending", "False", "Unschedulable")
    assert scheduled.message.startswith("0/5 nodes are available: 5 Insufficient nvidia.com/gpu.")
    events = core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name={name},reason=FailedScheduling"
    )
    (event,) = events.items
    assert (event.type, event.source.component, event.involved_object.kind) == (
        "Warning",
        "default-scheduler",
        "Pod",
    )
    assert event.message == scheduled.message


def test_image_pull_backoff(k8s_double: K8sDouble, k8s_api: client.ApiClient, kubectl: Kubectl) -> None:
    core = client.CoreV1Api(k8s_api)
    name = _gpu_job(k8s_double)
    k8s_double.image_pull_backoff("default", name)
    pod = core.read_namespaced_pod(name, "default")
    waiting = pod.status.container_statuses[0].state.waiting
    assert (pod.status.phase, waiting.reason) == ("Pending", "ImagePullBackOff")
    assert waiting.message == 'Back-off pulling image "pytorch/pytorch:2.4"'
    reasons = {
        e.reason
        for e in core.list_namespaced_event("default", field_selector=f"involvedObject.name={name}").items
    }
    assert {"Pulling", "Failed", "BackOff"} <= reasons
    assert kubectl.run("get", "pod", name, "--no-headers").stdout.split()[2] == "ImagePullBackOff"
    logs = kubectl.run("logs", name, check=False)
    assert "is waiting to start: trying and failing to pull image" in logs.stderr


def test_crash_loop_backoff(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "svc"},
            "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
        }
    )
    k8s_double.crash_loop_backoff("default", "svc", restarts=4)
    status = core.read_namespaced_pod("svc", "default").status
    entry = status.container_statuses[0]
    assert status.phase == "Running"
    assert (entry.state.waiting.reason, entry.restart_count, entry.ready) == ("CrashLoopBackOff", 4, False)
    assert (entry.last_state.terminated.reason, entry.last_state.terminated.exit_code) == ("Error", 1)
    assert _condition(core.read_namespaced_pod("svc", "default"), "Ready").status == "False"


def test_oom_killed_fails_a_never_restarting_pod_and_its_job(
    k8s_double: K8sDouble, k8s_api: client.ApiClient
) -> None:
    core, batch = client.CoreV1Api(k8s_api), client.BatchV1Api(k8s_api)
    name = _gpu_job(k8s_double)
    k8s_double.oom_kill("default", name)
    pod = core.read_namespaced_pod(name, "default")
    terminated = pod.status.container_statuses[0].state.terminated
    assert (pod.status.phase, terminated.reason, terminated.exit_code) == ("Failed", "OOMKilled", 137)
    job = batch.read_namespaced_job("train", "default")
    assert [c.type for c in job.status.conditions] == ["FailureTarget", "Failed"]


def test_oom_killed_restarting_pod_crash_loops(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "svc"},
            "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
        }
    )
    pod = k8s_double.oom_kill("default", "svc")
    entry = pod["status"]["containerStatuses"][0]
    assert pod["status"]["phase"] == "Running"
    assert entry["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert entry["state"]["waiting"]["reason"] == "CrashLoopBackOff"


def test_evicted(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    name = _gpu_job(k8s_double)
    k8s_double.set_pod_phase("default", name, "Running")
    rv = core.list_namespaced_pod("default").metadata.resource_version
    k8s_double.evict("default", name)
    pod = core.read_namespaced_pod(name, "default")
    assert (pod.status.phase, pod.status.reason) == ("Failed", "Evicted")
    # one status write, as the kubelet makes it: no watcher sees a Failed pod without the reason
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=10):
        assert (event["type"], event["raw_object"]["status"]["reason"]) == ("MODIFIED", "Evicted")
        w.stop()
    assert pod.status.message.startswith("The node was low on resource: memory.")
    assert _condition(pod, "DisruptionTarget").reason == "TerminationByKubelet"


def test_node_lost_marks_the_node_and_removes_the_pod(
    k8s_double: K8sDouble, k8s_api: client.ApiClient
) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.create(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "train"},
            "spec": {
                "backoffLimit": 3,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": "python:3.11"}],
                    }
                },
            },
        }
    )
    (pod,) = k8s_double.pods_of("default", "Job", "train")
    name = pod["metadata"]["name"]
    running = k8s_double.set_pod_phase("default", name, "Running")
    node = running["spec"]["nodeName"]
    rv = core.list_namespaced_pod("default").metadata.resource_version
    assert k8s_double.lose_node("default", name) is None
    ready = next(c for c in core.read_node(node).status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("Unknown", "NodeStatusUnknown")
    assert any(t.key == "node.kubernetes.io/unreachable" for t in core.read_node(node).spec.taints)
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=10):
        seen.append(
            (event["type"], event["raw_object"]["metadata"]["name"], event["raw_object"]["status"]["phase"])
        )
        if event["type"] == "DELETED":
            w.stop()
    assert seen[-2:] == [("MODIFIED", name, "Failed"), ("DELETED", name, "Failed")]
    # the job controller counts the failure and starts a replacement
    job = k8s_double.get("batch/v1", "Job", "train", "default")
    assert job["status"]["failed"] == 1 and job["status"]["active"] == 1


def test_succeeded_and_failed_phases_report_exit_codes(k8s_double: K8sDouble) -> None:
    for name in ("ok", "bad"):
        k8s_double.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "python:3.11"}]},
            }
        )
    ok = k8s_double.set_pod_phase("default", "ok", "Succeeded")
    bad = k8s_double.set_pod_phase("default", "bad", "Failed", exit_code=3)
    assert ok["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert ok["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert bad["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    ready = next(c for c in bad["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodFailed")


def test_init_containers_and_native_sidecars(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "run"},
            "spec": {
                "restartPolicy": "Never",
                "initContainers": [
                    {"name": "git", "image": "mizzen/init:1"},
                    {"name": "archiver", "image": "mizzen/sidecar:1", "restartPolicy": "Always"},
                ],
                "containers": [{"name": "main", "image": "python:3.11"}],
            },
        },
    )
    k8s_double.set_pod_phase("default", "run", "Running")
    init = {s.name: s for s in core.read_namespaced_pod("run", "default").status.init_container_statuses}
    assert init["git"].state.terminated.reason == "Completed"
    assert init["archiver"].state.running is not None and init["archiver"].ready
    k8s_double.append_log("default", "run", "git", "cloned\n")
    assert core.read_namespaced_pod_log("run", "default", container="git") == "cloned\n"
    k8s_double.set_pod_phase("default", "run", "Succeeded")
    init = {s.name: s for s in core.read_namespaced_pod("run", "default").status.init_container_statuses}
    assert init["archiver"].state.terminated.exit_code == 0
