"""CRD listing and removal (a missing operator), and the schema check on everything stored."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble
from k8s_double.crds import crd_dir
from k8s_double.kubectl import Kubectl

EXPECTED_CRDS = [
    "daskclusters.kubernetes.dask.org",
    "daskjobs.kubernetes.dask.org",
    "mpijobs.kubeflow.org",
    "paddlejobs.kubeflow.org",
    "pytorchjobs.kubeflow.org",
    "rayclusters.ray.io",
    "rayjobs.ray.io",
    "rayservices.ray.io",
    "tfjobs.kubeflow.org",
    "xgboostjobs.kubeflow.org",
]


def test_crds_are_listed_and_established(k8s_api: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(k8s_api)
    crds = ext.list_custom_resource_definition().items
    assert [c.metadata.name for c in crds] == EXPECTED_CRDS
    pytorch = ext.read_custom_resource_definition("pytorchjobs.kubeflow.org")
    assert pytorch.spec.group == "kubeflow.org" and pytorch.spec.names.kind == "PyTorchJob"
    established = next(c for c in pytorch.status.conditions if c.type == "Established")
    assert established.status == "True"
    assert pytorch.status.stored_versions == ["v1"]


def test_removing_a_crd_simulates_a_missing_operator(
    k8s_double: K8sDouble, k8s_api: client.ApiClient, kubectl: Kubectl
) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {"name": "rc"},
            "spec": {
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {
                        "spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}
                    },
                }
            },
        }
    )
    k8s_double.remove_crd("rayclusters.ray.io")
    assert "rayclusters.ray.io" not in k8s_double.crd_names()
    assert k8s_double.pods_of("default", "RayCluster", "rc") == []
    with pytest.raises(ApiException) as missing:
        custom.list_namespaced_custom_object("ray.io", "v1", "default", "rayclusters")
    assert missing.value.status == 404
    result = kubectl.run("get", "rayclusters", check=False)
    assert result.returncode != 0
    assert 'the server doesn\'t have a resource type "rayclusters"' in result.stderr
    assert "rayjobs" in kubectl.run("api-resources", "--api-group=ray.io", "-o", "name").stdout


def test_a_crd_applied_with_kubectl_is_served(k8s_double: K8sDouble, kubectl: Kubectl) -> None:
    k8s_double.remove_crd("daskjobs.kubernetes.dask.org")
    assert "daskjobs" not in kubectl.run("api-resources", "-o", "name").stdout
    result = kubectl.run("apply", "--server-side", "-f", str(crd_dir() / "daskjob.yaml"))
    assert "daskjobs.kubernetes.dask.org serverside-applied" in result.stdout
    assert "daskjobs.kubernetes.dask.org" in k8s_double.crd_names()
    assert kubectl.json("get", "daskjobs")["items"] == []


def test_invalid_builtin_objects_get_422_with_causes(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    with pytest.raises(ApiException) as bad:
        core.create_namespaced_pod(
            "default",
            {
                "metadata": {"name": "Bad_Name"},
                "spec": {
                    "containers": [{"name": "main", "resources": {"limits": {"cpu": "lots"}}}],
                    "restartPolicy": "Sometimes",
                },
            },
        )
    assert bad.value.status == 422
    status = json.loads(bad.value.body)
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Pod"
    fields = {c["field"] for c in status["details"]["causes"]}
    # (requests are defaulted from limits before the check, so the bad quantity shows twice)
    assert fields == {
        "metadata.name",
        "spec.containers[0].image",
        "spec.containers[0].resources.limits[cpu]",
        "spec.containers[0].resources.requests[cpu]",
        "spec.restartPolicy",
    }
    assert status["message"].startswith('Pod "Bad_Name" is invalid: [')


def test_unknown_fields_are_rejected_naming_the_field(
    k8s_double: K8sDouble, k8s_api: client.ApiClient
) -> None:
    # the official client refuses unknown fields of built-in kinds itself, so this one goes over plain HTTP
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {
            "backofLimit": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox", "imagePullPolicy": 3}],
                }
            },
        },
    }
    response = httpx.post(f"{k8s_double.url}/apis/batch/v1/namespaces/default/jobs", json=job)
    assert response.status_code == 422
    causes = response.json()["details"]["causes"]
    assert [c["field"] for c in causes] == [
        "spec.backofLimit",
        "spec.template.spec.containers[0].imagePullPolicy",
    ]
    assert causes[0]["message"] == 'Invalid value: unknown field "spec.backofLimit"'
    custom = client.CustomObjectsApi(k8s_api)
    with pytest.raises(ApiException) as cr_typo:
        custom.create_namespaced_custom_object(
            "ray.io",
            "v1",
            "default",
            "rayclusters",
            {
                "apiVersion": "ray.io/v1",
                "kind": "RayCluster",
                "metadata": {"name": "rc"},
                "spec": {
                    "headGroupSpec": {
                        "rayStartParams": {},
                        "replicas": 1,
                        "template": {
                            "spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}
                        },
                    }
                },
            },
        )
    assert cr_typo.value.status == 422
    assert [c["field"] for c in json.loads(cr_typo.value.body)["details"]["causes"]] == [
        "spec.headGroupSpec.replicas"
    ]


def test_updates_are_schema_checked_too(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    with pytest.raises(ApiException) as bad:
        core.patch_namespaced_config_map(
            "cfg", "default", {"data": {"a": 1}}, _content_type="application/merge-patch+json"
        )
    assert bad.value.status == 422
    assert json.loads(bad.value.body)["details"]["causes"][0]["field"] == "data.a"
    with pytest.raises(ApiException) as immutable:
        core.create_namespaced_pod(
            "default",
            {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "m", "image": "busybox"}]}},
        )
        core.patch_namespaced_pod("p", "default", {"spec": {"restartPolicy": "Never"}})
    assert immutable.value.status == 422
    assert "pod updates may not change fields" in json.loads(immutable.value.body)["message"]


def test_crd_defaults_are_applied(k8s_double: K8sDouble) -> None:
    created = k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayJob",
            "metadata": {"name": "rj"},
            "spec": {"entrypoint": "python x.py"},
        }
    )
    # ray.io_rayjobs.yaml declares defaults, e.g. spec.submissionMode K8sJobMode
    assert created["spec"]["submissionMode"] == "K8sJobMode"


def test_every_vendored_crd_is_served(k8s_double: K8sDouble) -> None:
    served = {c for c in k8s_double.crd_names()}
    files = sorted(p.name for p in Path(crd_dir()).glob("*.yaml"))
    assert len(files) == len(served) + 1  # the v2beta1 MPIJob CRD conflicts with the v1 one
