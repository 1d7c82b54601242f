"""The status subresource and pod logs through the official client."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble


def _pod(name: str, containers: tuple[str, ...] = ("main",)) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": c, "image": "python:3.11"} for c in containers],
        },
    }


def test_status_changes_only_through_the_status_subresource(k8s_api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    args = ("kubeflow.org", "v1", "default", "tfjobs")
    spec = {
        "tfReplicaSpecs": {
            "Worker": {
                "replicas": 1,
                "template": {
                    "spec": {"containers": [{"name": "tensorflow", "image": "tensorflow/tensorflow:2.17.0"}]}
                },
            }
        }
    }
    custom.create_namespaced_custom_object(
        *args, {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": {"name": "tf"}, "spec": spec}
    )
    before = custom.get_namespaced_custom_object(*args, "tf")
    # a status sent to the main resource is ignored
    custom.patch_namespaced_custom_object(
        *args, "tf", {"status": {"conditions": []}, "metadata": {"labels": {"a": "b"}}}
    )
    after = custom.get_namespaced_custom_object(*args, "tf")
    assert after["status"] == before["status"]
    assert after["metadata"]["labels"] == {"a": "b"}
    # the status subresource changes status only
    custom.patch_namespaced_custom_object_status(
        *args,
        "tf",
        {"status": {"startTime": "2025-01-01T00:00:00Z"}, "spec": {"runPolicy": {"suspend": True}}},
    )
    final = custom.get_namespaced_custom_object(*args, "tf")
    assert final["status"]["startTime"] == "2025-01-01T00:00:00Z"
    assert "runPolicy" not in final["spec"]
    assert final["metadata"]["generation"] == after["metadata"]["generation"]


def test_pod_status_replace_and_read(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod("default", _pod("p"))
    pod = core.read_namespaced_pod_status("p", "default")
    pod.status.phase = "Running"
    pod.spec.containers[0].image = "python:3.12"
    core.replace_namespaced_pod_status("p", "default", pod)
    stored = core.read_namespaced_pod("p", "default")
    assert stored.status.phase == "Running"
    assert stored.spec.containers[0].image == "python:3.11"


def test_pod_logs_container_tail_timestamps(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod("default", _pod("p", ("main", "sidecar")))
    k8s_double.set_pod_phase("default", "p", "Running")
    k8s_double.append_log("default", "p", "main", "one\ntwo\nthree")
    k8s_double.append_log("default", "p", "sidecar", "side\n")
    with pytest.raises(ApiException) as which:
        core.read_namespaced_pod_log("p", "default")
    assert which.value.status == 400
    message = json.loads(which.value.body)["message"]
    assert message == "a container name must be specified for pod p, choose one of: [main sidecar]"
    assert core.read_namespaced_pod_log("p", "default", container="main") == "one\ntwo\nthree\n"
    assert core.read_namespaced_pod_log("p", "default", container="sidecar") == "side\n"
    assert core.read_namespaced_pod_log("p", "default", container="main", tail_lines=2) == "two\nthree\n"
    stamped = core.read_namespaced_pod_log("p", "default", container="main", timestamps=True).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two", "three"]
    assert all(line.split(" ", 1)[0].endswith("Z") for line in stamped)
    assert core.read_namespaced_pod_log("p", "default", container="main", limit_bytes=5) == "one\nt"


def test_logs_of_a_missing_pod_are_404(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log("ghost", "default")
    assert missing.value.status == 404


def test_follow_streams_until_the_container_ends(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod("default", _pod("p"))
    k8s_double.set_pod_phase("default", "p", "Running")
    k8s_double.append_log("default", "p", None, "start\n")
    lines: list[str] = []
    first_line = threading.Event()

    def follow() -> None:
        for line in watch.Watch().stream(core.read_namespaced_pod_log, "p", "default"):
            lines.append(line)
            first_line.set()

    reader = threading.Thread(target=follow)
    reader.start()
    assert first_line.wait(30)
    k8s_double.append_log("default", "p", None, "middle\n")
    k8s_double.set_pod_phase("default", "p", "Succeeded")
    reader.join(30)
    assert not reader.is_alive()
    assert lines == ["start", "middle"]


def test_previous_logs_after_a_restart(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod(
        "default", {**_pod("p"), "spec": {**_pod("p")["spec"], "restartPolicy": "Always"}}
    )
    k8s_double.set_pod_phase("default", "p", "Running")
    with pytest.raises(ApiException) as none_yet:
        core.read_namespaced_pod_log("p", "default", previous=True)
    assert (
        json.loads(none_yet.value.body)["message"]
        == 'previous terminated container "main" in pod "p" not found'
    )
    k8s_double.append_log("default", "p", None, "Traceback: boom\n")
    k8s_double.crash_loop_backoff("default", "p")
    assert core.read_namespaced_pod_log("p", "default", previous=True) == "Traceback: boom\n"
    assert core.read_namespaced_pod_log("p", "default") == "Traceback: boom\n"
