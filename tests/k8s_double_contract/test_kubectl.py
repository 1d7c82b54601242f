"""The same behaviours through the real kubectl binary (a subprocess reading a generated kubeconfig)."""

from __future__ import annotations

import json
from pathlib import Path

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: train
  labels: {app: train}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: python:3.11
        command: ["python", "train.py"]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
"""

PYTORCH_JOB = """\
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: ddp
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: pytorch
            image: pytorch/pytorch:2.4
"""


def test_version_and_api_resources(kubectl: Kubectl, k8s_double: K8sDouble) -> None:
    version = json.loads(kubectl.run("version", "-o", "json").stdout)
    assert version["serverVersion"]["minor"] == k8s_double.kube_version.split(".")[1]
    resources = kubectl.run("api-resources", "-o", "name").stdout.split()
    for expected in (
        "pods",
        "jobs.batch",
        "deployments.apps",
        "roles.rbac.authorization.k8s.io",
        "pytorchjobs.kubeflow.org",
        "rayclusters.ray.io",
        "daskclusters.kubernetes.dask.org",
        "customresourcedefinitions.apiextensions.k8s.io",
    ):
        assert expected in resources


def test_apply_creates_then_patches(kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT)
    assert kubectl.run("apply", "-f", str(manifest)).stdout.strip() == "deployment.apps/web created"
    assert kubectl.run("apply", "-f", str(manifest)).stdout.strip() == "deployment.apps/web unchanged"
    manifest.write_text(DEPLOYMENT.replace('value: "2"', 'value: "22"').replace("replicas: 1", "replicas: 2"))
    assert kubectl.run("apply", "-f", str(manifest)).stdout.strip() == "deployment.apps/web configured"
    deployed = kubectl.json("get", "deployment", "web")
    env = deployed["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}, {"name": "B", "value": "22"}]
    assert deployed["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in deployed["metadata"]["annotations"]
    # the deployment controller made a new ReplicaSet for the new template
    assert len(k8s_double.list("apps/v1", "ReplicaSet", "default")) == 2
    assert len(k8s_double.pods_of("default", "Deployment", "web")) == 2


def test_apply_custom_resource_and_get_json(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "ddp.yaml"
    manifest.write_text(PYTORCH_JOB)
    assert kubectl.run("apply", "-f", str(manifest)).stdout.strip() == "pytorchjob.kubeflow.org/ddp created"
    job = kubectl.json("get", "pytorchjob", "ddp")
    assert job["kind"] == "PyTorchJob"
    assert job["status"]["conditions"][0]["type"] == "Created"
    pods = kubectl.json("get", "pods", "-l", "training.kubeflow.org/job-name=ddp")
    assert [p["metadata"]["name"] for p in pods["items"]] == ["ddp-master-0"]
    assert pods["items"][0]["kind"] == "Pod"
    manifest.write_text(PYTORCH_JOB.replace("replicas: 1", "replicas: 1\n      # edited"))
    assert kubectl.run("apply", "-f", str(manifest)).stdout.strip() == "pytorchjob.kubeflow.org/ddp unchanged"


def test_invalid_manifest_is_rejected_naming_the_field(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        JOB.replace("restartPolicy: Never", "restartPolicy: Never\n      nodeSelecter: {a: b}")
    )
    result = kubectl.run("apply", "-f", str(manifest), check=False)
    assert result.returncode != 0
    assert "spec.template.spec.nodeSelecter" in result.stderr
    manifest.write_text(PYTORCH_JOB.replace("replicas: 1", "replicas: one"))
    result = kubectl.run("apply", "-f", str(manifest), check=False)
    assert result.returncode != 0
    assert "spec.pytorchReplicaSpecs.Master.replicas" in result.stderr


def test_get_table_output_and_delete(kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(JOB)
    kubectl.run("apply", "-f", str(manifest))
    (pod,) = k8s_double.pods_of("default", "Job", "train")
    k8s_double.set_pod_phase("default", pod["metadata"]["name"], "Running")
    table = kubectl.run("get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == [pod["metadata"]["name"], "1/1", "Running", "0"]
    assert kubectl.run("delete", "job", "train").stdout.strip() == 'job.batch "train" deleted'
    # kubectl deletes with propagationPolicy=Background, so the pod goes too
    assert k8s_double.pods_of("default", "Job", "train") == []
    result = kubectl.run("get", "job", "train", check=False)
    assert result.returncode == 1
    assert 'jobs.batch "train" not found' in result.stderr


def test_logs_and_follow(kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(JOB)
    kubectl.run("apply", "-f", str(manifest))
    (pod,) = k8s_double.pods_of("default", "Job", "train")
    name = pod["metadata"]["name"]
    waiting = kubectl.run("logs", name, check=False)
    assert waiting.returncode != 0
    assert f'container "main" in pod "{name}" is waiting to start: ContainerCreating' in waiting.stderr
    k8s_double.set_pod_phase("default", name, "Running")
    k8s_double.append_log("default", name, "main", "epoch 1\nepoch 2\n")
    assert kubectl.run("logs", name).stdout == "epoch 1\nepoch 2\n"
    assert kubectl.run("logs", name, "--tail=1").stdout == "epoch 2\n"
    stamped = kubectl.run("logs", name, "--timestamps").stdout.splitlines()
    assert stamped[0].endswith("Z epoch 1")
    assert kubectl.run("logs", "job/train").stdout == "epoch 1\nepoch 2\n"
    follower = kubectl.popen("logs", "-f", name)
    assert follower.stdout is not None
    assert follower.stdout.readline() == "epoch 1\n"
    assert follower.stdout.readline() == "epoch 2\n"
    k8s_double.append_log("default", name, "main", "epoch 3\n")
    assert follower.stdout.readline() == "epoch 3\n"
    k8s_double.set_pod_phase("default", name, "Succeeded")
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    assert out == ""


def test_get_watch_prints_changes(kubectl: Kubectl, k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"v": "1"}}
    )
    watcher = kubectl.popen("get", "configmap", "cfg", "--watch", "-o", 'jsonpath={.data.v}{"\\n"}')
    assert watcher.stdout is not None
    assert watcher.stdout.readline() == "1\n"
    k8s_double.wait_for_watches(1)
    k8s_double.patch("v1", "ConfigMap", "cfg", {"data": {"v": "2"}}, "default")
    assert watcher.stdout.readline() == "2\n"
    watcher.terminate()
    watcher.wait(timeout=30)


def test_server_side_apply_creates_and_updates(
    kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble
) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT)
    assert kubectl.run("apply", "--server-side", "-f", str(manifest)).stdout.strip() == (
        "deployment.apps/web serverside-applied"
    )
    manifest.write_text(DEPLOYMENT.replace('value: "2"', 'value: "3"'))
    kubectl.run("apply", "--server-side", "-f", str(manifest))
    deployed = k8s_double.get("apps/v1", "Deployment", "web", "default")
    assert deployed["spec"]["template"]["spec"]["containers"][0]["env"][1] == {"name": "B", "value": "3"}


def test_server_dry_run_stores_nothing(kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(JOB)
    result = kubectl.run("apply", "--dry-run=server", "-f", str(manifest))
    assert result.stdout.strip() == "job.batch/train created (server dry run)"
    assert k8s_double.get("batch/v1", "Job", "train", "default") is None
    events = kubectl.run("get", "events", "--no-headers").stdout
    assert events == ""


def test_status_subresource_and_crds(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "ddp.yaml"
    manifest.write_text(PYTORCH_JOB)
    kubectl.run("apply", "-f", str(manifest))
    patch = '{"status": {"startTime": "2025-01-01T00:00:00Z"}, "spec": {"runPolicy": {"suspend": true}}}'
    kubectl.run("patch", "pytorchjob", "ddp", "--subresource=status", "--type=merge", "-p", patch)
    job = kubectl.json("get", "pytorchjob", "ddp")
    assert job["status"]["startTime"] == "2025-01-01T00:00:00Z"
    assert "runPolicy" not in job["spec"]
    crds = kubectl.run("get", "crd", "-o", "name").stdout.split()
    assert "customresourcedefinition.apiextensions.k8s.io/pytorchjobs.kubeflow.org" in crds


def test_scenario_events_through_kubectl(kubectl: Kubectl, tmp_path: Path, k8s_double: K8sDouble) -> None:
    manifest = tmp_path / "job.yaml"
    manifest.write_text(JOB)
    kubectl.run("apply", "-f", str(manifest))
    (pod,) = k8s_double.pods_of("default", "Job", "train")
    name = pod["metadata"]["name"]
    k8s_double.make_unschedulable("default", name)
    events = kubectl.json("get", "events", "--field-selector", f"involvedObject.name={name},type=Warning")
    (event,) = events["items"]
    assert event["reason"] == "FailedScheduling"
    assert event["message"].startswith("0/5 nodes are available: 5 Insufficient nvidia.com/gpu.")
    status = kubectl.json("get", "pod", name)["status"]
    assert status["conditions"][0]["reason"] == "Unschedulable"
