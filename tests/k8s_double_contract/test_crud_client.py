"""Namespaced CRUD through the official client: core, batch, apps, rbac and custom resources."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble


def _status(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def _pod(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "main", "image": "python:3.11"}], "restartPolicy": "Never"},
    }


def test_create_get_list_delete_configmap(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    fetched = core.read_namespaced_config_map("cfg", "default")
    assert fetched.data == {"a": "1"}
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == [
        "cfg",
        "kube-root-ca.crt",
    ]
    status = core.delete_namespaced_config_map("cfg", "default")
    assert status["status"] == "Success"
    assert status["details"]["name"] == "cfg"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("cfg", "default")
    assert missing.value.status == 404
    assert _status(missing.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "cfg" not found',
        "reason": "NotFound",
        "details": {"name": "cfg", "kind": "configmaps"},
        "code": 404,
    }


def test_resource_versions_come_from_one_global_counter(k8s_api: client.ApiClient) -> None:
    core, batch = client.CoreV1Api(k8s_api), client.BatchV1Api(k8s_api)
    first = int(
        core.create_namespaced_secret(
            "default", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}
        ).metadata.resource_version
    )
    job = batch.create_namespaced_job(
        "default",
        {
            "metadata": {"name": "j"},
            "spec": {
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
                }
            },
        },
    )
    second = int(job.metadata.resource_version)
    assert second > first
    listed = int(core.list_namespaced_secret("default").metadata.resource_version)
    assert listed >= second
    assert core.read_namespaced_secret("s", "default").data == {"k": "dg=="}


def test_create_twice_is_already_exists(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_service_account("default", {"metadata": {"name": "runner"}})
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_service_account("default", {"metadata": {"name": "runner"}})
    assert dup.value.status == 409
    body = _status(dup.value)
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'serviceaccounts "runner" already exists'


def test_stale_resource_version_on_replace_is_conflict(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    cm = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    stale = cm.metadata.resource_version
    cm.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("cfg", "default", cm)
    assert int(updated.metadata.resource_version) > int(stale)
    cm.metadata.resource_version = stale
    cm.data = {"a": "3"}
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cfg", "default", cm)
    assert conflict.value.status == 409
    body = _status(conflict.value)
    assert body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    assert core.read_namespaced_config_map("cfg", "default").data == {"a": "2"}


def test_namespace_must_exist_and_can_be_created(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_config_map("team-a", {"metadata": {"name": "cfg"}})
    assert missing.value.status == 404
    assert _status(missing.value)["message"] == 'namespaces "team-a" not found'
    core.create_namespace({"metadata": {"name": "team-a"}})
    # the service-account controller gives every namespace a `default` ServiceAccount
    assert core.read_namespaced_service_account("default", "team-a").metadata.name == "default"
    assert (
        core.create_namespaced_config_map("team-a", {"metadata": {"name": "cfg"}}).metadata.namespace
        == "team-a"
    )


def test_label_and_field_selectors(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_pod("default", _pod("a", {"app": "x", "tier": "web"}))
    core.create_namespaced_pod("default", _pod("b", {"app": "x", "tier": "db"}))
    core.create_namespaced_pod("default", _pod("c", {"app": "y"}))
    k8s_double.set_pod_phase("default", "b", "Running")

    def names(**kw: Any) -> list[str]:
        return [p.metadata.name for p in core.list_namespaced_pod("default", **kw).items]

    assert names(label_selector="app=x") == ["a", "b"]
    assert names(label_selector="app=x,tier!=web") == ["b"]
    assert names(label_selector="tier in (web,db)") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(field_selector="status.phase=Running") == ["b"]
    assert names(field_selector="metadata.name=c") == ["c"]
    with pytest.raises(ApiException) as bad:
        names(field_selector="spec.bogus=1")
    assert bad.value.status == 400


def test_list_pagination_with_limit_and_continue(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    for index in range(5):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"cfg-{index}"}})
    first = core.list_namespaced_config_map("default", limit=2)
    assert [c.metadata.name for c in first.items] == ["cfg-0", "cfg-1"]
    assert first.metadata.remaining_item_count == 4
    second = core.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    assert [c.metadata.name for c in second.items] == ["cfg-2", "cfg-3", "cfg-4", "kube-root-ca.crt"]
    assert second.metadata._continue is None


def test_merge_strategic_and_json_patches(k8s_api: client.ApiClient) -> None:
    apps = client.AppsV1Api(k8s_api)
    deployment = {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}]},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }
    apps.create_namespaced_deployment("default", deployment)
    # a dict body goes as a strategic merge patch: containers merge by name, env by name
    apps.patch_namespaced_deployment(
        "web",
        "default",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}}
            }
        },
    )
    containers = apps.read_namespaced_deployment("web", "default").spec.template.spec.containers
    assert [c.name for c in containers] == ["web", "sidecar"]
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "2")]
    assert containers[0].image == "nginx:1.27"
    # a JSON merge patch replaces lists
    apps.patch_namespaced_deployment(
        "web",
        "default",
        {
            "metadata": {"labels": {"tier": "front"}},
            "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "nginx:1.28"}]}}},
        },
        _content_type="application/merge-patch+json",
    )
    patched = apps.read_namespaced_deployment("web", "default")
    assert patched.metadata.labels == {"app": "web", "tier": "front"}
    assert [c.name for c in patched.spec.template.spec.containers] == ["only"]
    # a JSON patch (RFC 6902)
    apps.patch_namespaced_deployment(
        "web", "default", [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    )
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 3
    with pytest.raises(ApiException) as failed:
        apps.patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 9}]
        )
    assert failed.value.status == 422


def test_generation_moves_with_spec_not_metadata(k8s_api: client.ApiClient) -> None:
    batch = client.BatchV1Api(k8s_api)
    job = batch.create_namespaced_job(
        "default",
        {
            "metadata": {"name": "j"},
            "spec": {
                "suspend": True,
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
                },
            },
        },
    )
    assert job.metadata.generation == 1
    batch.patch_namespaced_job("j", "default", {"metadata": {"labels": {"x": "y"}}})
    assert batch.read_namespaced_job("j", "default").metadata.generation == 1
    batch.patch_namespaced_job("j", "default", {"spec": {"suspend": False}})
    assert batch.read_namespaced_job("j", "default").metadata.generation == 2


def test_rbac_roles_and_bindings(k8s_api: client.ApiClient) -> None:
    rbac = client.RbacAuthorizationV1Api(k8s_api)
    rbac.create_namespaced_role(
        "default",
        {
            "metadata": {"name": "agent"},
            "rules": [
                {
                    "apiGroups": ["batch"],
                    "resources": ["jobs"],
                    "verbs": ["create", "get", "list", "watch", "delete"],
                }
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        "default",
        {
            "metadata": {"name": "agent"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "agent"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
        },
    )
    assert rbac.read_namespaced_role("agent", "default").rules[0].verbs[0] == "create"
    assert [b.metadata.name for b in rbac.list_namespaced_role_binding("default").items] == ["agent"]
    rbac.delete_collection_namespaced_role("default")
    assert rbac.list_namespaced_role("default").items == []


def test_custom_resources_crud(k8s_api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    body = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "ddp"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {
                    "replicas": 1,
                    "template": {
                        "spec": {"containers": [{"name": "pytorch", "image": "pytorch/pytorch:2.4"}]}
                    },
                }
            }
        },
    }
    created = custom.create_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", body)
    assert created["metadata"]["generation"] == 1
    listed = custom.list_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["ddp"]
    assert listed["items"][0]["kind"] == "PyTorchJob"
    custom.patch_namespaced_custom_object(
        "kubeflow.org", "v1", "default", "pytorchjobs", "ddp", {"metadata": {"labels": {"team": "a"}}}
    )
    fetched = custom.get_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", "ddp")
    assert fetched["metadata"]["labels"] == {"team": "a"}
    # custom resources refuse unconditional updates
    fetched["metadata"].pop("resourceVersion")
    with pytest.raises(ApiException) as no_rv:
        custom.replace_namespaced_custom_object(
            "kubeflow.org", "v1", "default", "pytorchjobs", "ddp", fetched
        )
    assert no_rv.value.status == 422
    # strategic merge patch is not available for custom resources
    with pytest.raises(ApiException) as smp:
        custom.patch_namespaced_custom_object(
            "kubeflow.org",
            "v1",
            "default",
            "pytorchjobs",
            "ddp",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert smp.value.status == 415
    custom.delete_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", "ddp")
    assert custom.list_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs")["items"] == []


def test_cluster_scoped_nodes_and_all_namespace_lists(
    k8s_api: client.ApiClient, k8s_double: K8sDouble
) -> None:
    core = client.CoreV1Api(k8s_api)
    nodes = core.list_node().items
    assert [n.metadata.name for n in nodes] == [f"node-{i}" for i in range(1, 6)]
    assert all(c.status == "True" for n in nodes for c in n.status.conditions if c.type == "Ready")
    k8s_double.add_node("gpu-1", gpus=8, labels={"accelerator": "a100"})
    gpu = core.read_node("gpu-1")
    assert gpu.status.allocatable["nvidia.com/gpu"] == "8"
    core.create_namespace({"metadata": {"name": "other"}})
    core.create_namespaced_pod("other", _pod("p1"))
    core.create_namespaced_pod("default", _pod("p2"))
    everywhere = core.list_pod_for_all_namespaces()
    assert sorted((p.metadata.namespace, p.metadata.name) for p in everywhere.items) == [
        ("default", "p2"),
        ("other", "p1"),
    ]


def test_server_defaults_like_a_real_api_server(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    pod = core.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "p"},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": "python:latest",
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    }
                ]
            },
        },
    )
    assert pod.spec.restart_policy == "Always"
    assert pod.spec.service_account_name == "default"
    assert pod.spec.containers[0].image_pull_policy == "Always"
    assert pod.spec.containers[0].resources.requests == {"cpu": "1", "memory": "1Gi"}
    assert pod.status.phase == "Pending"
    assert pod.status.qos_class == "Guaranteed"
    svc = core.create_namespaced_service(
        "default",
        {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    )
    assert svc.spec.cluster_ip.startswith("10.96.")
    assert svc.spec.ports[0].target_port == 80
    assert svc.spec.ports[0].protocol == "TCP"
