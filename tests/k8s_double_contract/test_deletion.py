"""DeleteOptions, ownerReferences garbage collection, graceful pod deletion, namespaces and CRDs."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl

JOB = {
    "metadata": {"name": "train"},
    "spec": {
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}
    },
}


def _pod_names(core: client.CoreV1Api, selector: str = "") -> list[str]:
    return [p.metadata.name for p in core.list_namespaced_pod("default", label_selector=selector).items]


def test_background_propagation_deletes_the_jobs_pods(k8s_api: client.ApiClient) -> None:
    batch, core = client.BatchV1Api(k8s_api), client.CoreV1Api(k8s_api)
    batch.create_namespaced_job("default", JOB)
    (pod,) = _pod_names(core, "job-name=train")
    assert pod.startswith("train-")
    owner = core.read_namespaced_pod(pod, "default").metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller, owner.block_owner_deletion) == (
        "Job",
        "train",
        True,
        True,
    )
    batch.delete_namespaced_job(
        "train", "default", body=client.V1DeleteOptions(propagation_policy="Background")
    )
    assert _pod_names(core) == []


def test_deleting_a_job_without_options_orphans_its_pods(k8s_api: client.ApiClient) -> None:
    """batch/v1 Jobs keep the legacy default: the API orphans the pods unless told otherwise."""
    batch, core = client.BatchV1Api(k8s_api), client.CoreV1Api(k8s_api)
    batch.create_namespaced_job("default", JOB)
    (pod,) = _pod_names(core)
    batch.delete_namespaced_job("train", "default")
    assert _pod_names(core) == [pod]
    assert core.read_namespaced_pod(pod, "default").metadata.owner_references is None


def test_foreground_deletion_removes_dependents_first(
    k8s_api: client.ApiClient, k8s_double: K8sDouble
) -> None:
    apps = client.AppsV1Api(k8s_api)
    apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    assert len(k8s_double.pods_of("default", "Deployment", "web")) == 2
    rv = client.CoreV1Api(k8s_api).list_namespaced_pod("default").metadata.resource_version
    apps.delete_namespaced_deployment("web", "default", propagation_policy="Foreground")
    assert apps.list_namespaced_replica_set("default").items == []
    assert k8s_double.pods_of("default", "Deployment", "web") == []
    # the watch shows the owner marked (foregroundDeletion finalizer) before its pods go
    w = watch.Watch()
    events = []
    for event in w.stream(
        apps.list_namespaced_deployment, "default", resource_version=rv, timeout_seconds=10
    ):
        events.append(event["raw_object"])
        if event["type"] == "DELETED":
            w.stop()
    assert events[0]["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert events[0]["metadata"]["deletionTimestamp"]


def test_orphan_propagation_keeps_dependents(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    apps = client.AppsV1Api(k8s_api)
    apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    apps.delete_namespaced_deployment(
        "web", "default", body=client.V1DeleteOptions(propagation_policy="Orphan")
    )
    (replica_set,) = apps.list_namespaced_replica_set("default").items
    assert replica_set.metadata.owner_references is None
    assert len(k8s_double.pods_of("default", "ReplicaSet", replica_set.metadata.name)) == 1


def test_preconditions_and_bad_policy(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    with pytest.raises(ApiException) as stale:
        core.delete_namespaced_config_map(
            "cfg",
            "default",
            body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid")),
        )
    assert stale.value.status == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in json.loads(stale.value.body)["message"]
    with pytest.raises(ApiException) as bad:
        core.delete_namespaced_config_map("cfg", "default", propagation_policy="Sometimes")
    assert bad.value.status == 422


def test_graceful_pod_deletion_with_a_kubelet_that_takes_its_time(
    k8s_api: client.ApiClient, k8s_double: K8sDouble
) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod(
        "default", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "main", "image": "busybox"}]}}
    )
    k8s_double.set_pod_phase("default", "p", "Running")
    k8s_double.hold_pod_termination()
    pending = core.delete_namespaced_pod("p", "default", grace_period_seconds=15)
    assert pending.metadata.deletion_grace_period_seconds == 15
    terminating = core.read_namespaced_pod("p", "default")
    assert terminating.metadata.deletion_timestamp is not None
    k8s_double.finish_pod_termination("default", "p")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_pod("p", "default")
    assert gone.value.status == 404


def test_force_deletion_is_immediate(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod(
        "default", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "main", "image": "busybox"}]}}
    )
    k8s_double.set_pod_phase("default", "p", "Running")
    k8s_double.hold_pod_termination()
    core.delete_namespaced_pod("p", "default", grace_period_seconds=0)
    assert core.list_namespaced_pod("default").items == []


def test_finalizers_hold_deletion_until_removed(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cfg", "finalizers": ["mizzen.io/archive"]}}
    )
    core.delete_namespaced_config_map("cfg", "default")
    held = core.read_namespaced_config_map("cfg", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map(
        "cfg", "default", {"metadata": {"finalizers": None}}, _content_type="application/merge-patch+json"
    )
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("cfg", "default")
    assert gone.value.status == 404


def test_dependents_of_a_missing_owner_are_collected(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_config_map(
        "default",
        {
            "metadata": {
                "name": "orphan",
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": "gone",
                        "uid": "00000000-0000-0000-0000-000000000000",
                    }
                ],
            }
        },
    )
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["kube-root-ca.crt"]


def test_custom_resource_dependents_are_collected(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    custom.create_namespaced_custom_object(
        "kubeflow.org",
        "v1",
        "default",
        "pytorchjobs",
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "PyTorchJob",
            "metadata": {"name": "ddp"},
            "spec": {
                "pytorchReplicaSpecs": {
                    "Worker": {
                        "replicas": 2,
                        "template": {
                            "spec": {"containers": [{"name": "pytorch", "image": "pytorch/pytorch:2.4"}]}
                        },
                    }
                }
            },
        },
    )
    assert [p["metadata"]["name"] for p in k8s_double.pods_of("default", "PyTorchJob", "ddp")] == [
        "ddp-worker-0",
        "ddp-worker-1",
    ]
    custom.delete_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", "ddp")
    assert k8s_double.pods_of("default", "PyTorchJob", "ddp") == []
    assert k8s_double.get("v1", "Service", "ddp-worker-0", "default") is None


def test_namespace_deletion_removes_its_content(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_config_map("team", {"metadata": {"name": "cfg"}})
    deleted = core.delete_namespace("team")
    assert deleted["status"]["phase"] == "Terminating"
    assert [n.metadata.name for n in core.list_namespace().items if n.metadata.name == "team"] == []
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("cfg", "team")


def test_delete_collection_by_label(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"team": team}}})
    raw = core.delete_collection_namespaced_config_map(
        "default", label_selector="team=x", _preload_content=False
    )
    deleted = json.loads(raw.data)
    assert deleted["kind"] == "ConfigMapList"
    assert [item["metadata"]["name"] for item in deleted["items"]] == ["a", "b"]
    assert sorted(c.metadata.name for c in core.list_namespaced_config_map("default").items) == [
        "c",
        "kube-root-ca.crt",
    ]


def test_kubectl_delete_cascade_orphan(kubectl: Kubectl, k8s_double: K8sDouble) -> None:
    k8s_double.create({"apiVersion": "batch/v1", "kind": "Job", **JOB})
    assert (
        kubectl.run("delete", "job", "train", "--cascade=orphan").stdout.strip()
        == 'job.batch "train" deleted'
    )
    assert len(k8s_double.list("v1", "Pod", "default")) == 1


def test_kubectl_delete_waits_for_foreground_deletion(kubectl: Kubectl, k8s_double: K8sDouble) -> None:
    k8s_double.create({"apiVersion": "batch/v1", "kind": "Job", **JOB})
    result = kubectl.run("delete", "job", "train", "--cascade=foreground", "--wait=true", timeout=60)
    assert result.stdout.strip() == 'job.batch "train" deleted'
    assert k8s_double.list("v1", "Pod", "default") == []
    assert k8s_double.get("batch/v1", "Job", "train", "default") is None
