"""Controller-like behaviour: owners create named pods, pod phases drive the owners' status."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl


def _job(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "python:3.11"}]}
            },
            **spec,
        },
    }


def _conditions(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (c["type"], c["status"], c.get("reason", ""))
        for c in (obj.get("status") or {}).get("conditions") or []
    ]


def _pod_names(double: K8sDouble, kind: str, name: str) -> list[str]:
    return [p["metadata"]["name"] for p in double.pods_of("default", kind, name)]


def test_job_runs_to_complete(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    batch = client.BatchV1Api(k8s_api)
    batch.create_namespaced_job("default", _job("train"))
    (pod,) = _pod_names(k8s_double, "Job", "train")
    labels = k8s_double.get("v1", "Pod", pod, "default")["metadata"]["labels"]
    assert labels["job-name"] == labels["batch.kubernetes.io/job-name"] == "train"
    assert batch.read_namespaced_job_status("train", "default").status.active == 1
    k8s_double.set_pod_phase("default", pod, "Running")
    assert batch.read_namespaced_job("train", "default").status.ready == 1
    k8s_double.set_pod_phase("default", pod, "Succeeded")
    job = batch.read_namespaced_job("train", "default")
    assert job.status.succeeded == 1 and job.status.active is None
    assert [(c.type, c.status, c.reason) for c in job.status.conditions] == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached"),
    ]
    assert job.status.completion_time is not None
    reasons = [e["reason"] for e in k8s_double.events_for("default", "Job", "train")]
    assert reasons == ["SuccessfulCreate", "Completed"]


def test_job_retries_until_backoff_limit(k8s_double: K8sDouble) -> None:
    k8s_double.create(_job("train", backoffLimit=1))
    (first,) = _pod_names(k8s_double, "Job", "train")
    k8s_double.set_pod_phase("default", first, "Failed", exit_code=2)
    pods = _pod_names(k8s_double, "Job", "train")
    assert len(pods) == 2
    (second,) = [p for p in pods if p != first]
    k8s_double.set_pod_phase("default", second, "Failed", exit_code=2)
    job = k8s_double.get("batch/v1", "Job", "train", "default")
    assert job["status"]["failed"] == 2
    assert _conditions(job) == [
        ("FailureTarget", "True", "BackoffLimitExceeded"),
        ("Failed", "True", "BackoffLimitExceeded"),
    ]
    assert job["status"]["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert len(_pod_names(k8s_double, "Job", "train")) == 2


def test_pod_failure_policy_fails_the_job_on_a_matching_exit_code(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        _job(
            "train",
            backoffLimit=6,
            podFailurePolicy={
                "rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]
            },
        )
    )
    (pod,) = _pod_names(k8s_double, "Job", "train")
    k8s_double.set_pod_phase("default", pod, "Failed", exit_code=42)
    job = k8s_double.get("batch/v1", "Job", "train", "default")
    assert _conditions(job)[-1] == ("Failed", "True", "PodFailurePolicy")
    assert (
        "failed with exit code 42 matching FailJob rule at index 0"
        in job["status"]["conditions"][-1]["message"]
    )


def test_indexed_job_names_pods_by_index(k8s_double: K8sDouble) -> None:
    k8s_double.create(_job("sweep", completions=3, parallelism=2, completionMode="Indexed"))
    pods = k8s_double.pods_of("default", "Job", "sweep")
    indexes = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in pods)
    assert indexes == ["0", "1"]
    assert all(
        p["metadata"]["name"].startswith(
            f"sweep-{p['metadata']['labels']['batch.kubernetes.io/job-completion-index']}-"
        )
        for p in pods
    )
    for pod in pods:
        k8s_double.set_pod_phase("default", pod["metadata"]["name"], "Succeeded")
    (last,) = [p for p in k8s_double.pods_of("default", "Job", "sweep") if p["status"]["phase"] == "Pending"]
    assert last["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "2"


def test_deployment_reports_availability(k8s_double: K8sDouble, kubectl: Kubectl) -> None:
    k8s_double.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    pods = _pod_names(k8s_double, "Deployment", "web")
    (replica_set,) = k8s_double.list("apps/v1", "ReplicaSet", "default")
    rs_name = replica_set["metadata"]["name"]
    assert rs_name.startswith("web-") and all(p.startswith(rs_name + "-") for p in pods)
    deploy = kubectl.json("get", "deployment", "web")
    assert ("Available", "False", "MinimumReplicasUnavailable") in _conditions(deploy)
    moved = k8s_double.set_pods_phase("default", "Deployment", "web", "Running")
    assert sorted(p["metadata"]["name"] for p in moved) == sorted(pods)
    deploy = kubectl.json("get", "deployment", "web")
    assert deploy["status"]["availableReplicas"] == 2 and deploy["status"]["readyReplicas"] == 2
    assert _conditions(deploy) == [
        ("Available", "True", "MinimumReplicasAvailable"),
        ("Progressing", "True", "NewReplicaSetAvailable"),
    ]
    # a crashed replica is replaced
    k8s_double.set_pod_phase("default", pods[0], "Failed")
    assert (
        len(
            [
                p
                for p in k8s_double.pods_of("default", "Deployment", "web")
                if p["status"]["phase"] == "Pending"
            ]
        )
        == 1
    )


PYTORCH = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "metadata": {"name": "ddp"},
    "spec": {
        "pytorchReplicaSpecs": {
            "Master": {
                "replicas": 1,
                "restartPolicy": "OnFailure",
                "template": {"spec": {"containers": [{"name": "pytorch", "image": "pytorch/pytorch:2.4"}]}},
            },
            "Worker": {
                "replicas": 2,
                "restartPolicy": "OnFailure",
                "template": {"spec": {"containers": [{"name": "pytorch", "image": "pytorch/pytorch:2.4"}]}},
            },
        }
    },
}


def test_pytorchjob_with_two_workers_succeeds(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    custom.create_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", PYTORCH)
    pods = _pod_names(k8s_double, "PyTorchJob", "ddp")
    assert pods == ["ddp-master-0", "ddp-worker-0", "ddp-worker-1"]
    worker = k8s_double.get("v1", "Pod", "ddp-worker-1", "default")
    env = {e["name"]: e.get("value") for e in worker["spec"]["containers"][0]["env"]}
    assert env["MASTER_ADDR"] == "ddp-master-0" and env["WORLD_SIZE"] == "3" and env["RANK"] == "2"
    assert worker["metadata"]["labels"]["training.kubeflow.org/replica-type"] == "worker"
    assert k8s_double.get("v1", "Service", "ddp-master-0", "default")["spec"]["clusterIP"] == "None"
    for pod in pods:
        k8s_double.set_pod_phase("default", pod, "Running")
    job = custom.get_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", "ddp")
    assert _conditions(job) == [
        ("Created", "True", "PyTorchJobCreated"),
        ("Running", "True", "PyTorchJobRunning"),
    ]
    assert job["status"]["replicaStatuses"]["Worker"]["active"] == 2
    k8s_double.set_pod_phase("default", "ddp-master-0", "Succeeded")
    job = custom.get_namespaced_custom_object("kubeflow.org", "v1", "default", "pytorchjobs", "ddp")
    assert _conditions(job) == [
        ("Created", "True", "PyTorchJobCreated"),
        ("Running", "False", "PyTorchJobRunning"),
        ("Succeeded", "True", "PyTorchJobSucceeded"),
    ]
    assert job["status"]["completionTime"]


def test_pytorchjob_fails_when_a_worker_fails(k8s_double: K8sDouble) -> None:
    k8s_double.create(PYTORCH)
    k8s_double.set_pod_phase("default", "ddp-worker-1", "Failed", exit_code=1)
    job = k8s_double.get("kubeflow.org/v1", "PyTorchJob", "ddp", "default")
    failed = job["status"]["conditions"][-1]
    assert (failed["type"], failed["reason"]) == ("Failed", "PyTorchJobFailed")
    assert failed["message"] == "PyTorchJob default/ddp has failed because 1 Worker replica(s) failed."


def test_tfjob_and_mpijob_pod_names(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "TFJob",
            "metadata": {"name": "tf"},
            "spec": {
                "tfReplicaSpecs": {
                    "Chief": {
                        "replicas": 1,
                        "template": {
                            "spec": {
                                "containers": [
                                    {"name": "tensorflow", "image": "tensorflow/tensorflow:2.17.0"}
                                ]
                            }
                        },
                    },
                    "PS": {
                        "replicas": 1,
                        "template": {
                            "spec": {
                                "containers": [
                                    {"name": "tensorflow", "image": "tensorflow/tensorflow:2.17.0"}
                                ]
                            }
                        },
                    },
                }
            },
        }
    )
    assert _pod_names(k8s_double, "TFJob", "tf") == ["tf-chief-0", "tf-ps-0"]
    k8s_double.create(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "MPIJob",
            "metadata": {"name": "mpi"},
            "spec": {
                "slotsPerWorker": 1,
                "mpiReplicaSpecs": {
                    "Launcher": {
                        "replicas": 1,
                        "template": {"spec": {"containers": [{"name": "mpi", "image": "mpi:1"}]}},
                    },
                    "Worker": {
                        "replicas": 2,
                        "template": {"spec": {"containers": [{"name": "mpi", "image": "mpi:1"}]}},
                    },
                },
            },
        }
    )
    assert _pod_names(k8s_double, "MPIJob", "mpi") == ["mpi-launcher-0", "mpi-worker-0", "mpi-worker-1"]
    k8s_double.set_pod_phase("default", "mpi-launcher-0", "Succeeded")
    assert _conditions(k8s_double.get("kubeflow.org/v1", "MPIJob", "mpi", "default"))[-1][0] == "Succeeded"


RAY_CLUSTER_SPEC = {
    "headGroupSpec": {
        "rayStartParams": {},
        "template": {"spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}},
    },
    "workerGroupSpecs": [
        {
            "groupName": "cpu",
            "replicas": 2,
            "minReplicas": 1,
            "maxReplicas": 4,
            "rayStartParams": {},
            "template": {"spec": {"containers": [{"name": "ray-worker", "image": "rayproject/ray:2.40.0"}]}},
        }
    ],
}


def test_raycluster_head_workers_and_ready_state(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {"name": "rc"},
            "spec": RAY_CLUSTER_SPEC,
        }
    )
    pods = k8s_double.pods_of("default", "RayCluster", "rc")
    heads = [p for p in pods if p["metadata"]["labels"]["ray.io/node-type"] == "head"]
    workers = [p for p in pods if p["metadata"]["labels"]["ray.io/node-type"] == "worker"]
    assert len(heads) == 1 and heads[0]["metadata"]["name"].startswith("rc-head-")
    assert len(workers) == 2 and all(w["metadata"]["name"].startswith("rc-cpu-worker-") for w in workers)
    assert k8s_double.get("v1", "Service", "rc-head-svc", "default") is not None
    for pod in pods:
        k8s_double.set_pod_phase("default", pod["metadata"]["name"], "Running")
    status = k8s_double.get("ray.io/v1", "RayCluster", "rc", "default")["status"]
    assert status["state"] == "ready"
    assert status["readyWorkerReplicas"] == 2 and status["desiredWorkerReplicas"] == 2
    assert status["head"]["podName"] == heads[0]["metadata"]["name"]
    assert ("RayClusterProvisioned", "True", "AllPodRunningAndReadyFirstTime") in _conditions(
        {"status": status}
    )


def test_rayjob_follows_its_submitter_job(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayJob",
            "metadata": {"name": "rj"},
            "spec": {
                "entrypoint": "python train.py",
                "shutdownAfterJobFinishes": True,
                "rayClusterSpec": RAY_CLUSTER_SPEC,
            },
        }
    )
    status = k8s_double.get("ray.io/v1", "RayJob", "rj", "default")["status"]
    assert status["jobDeploymentStatus"] == "Initializing"
    cluster = status["rayClusterName"]
    for pod in k8s_double.pods_of("default", "RayCluster", cluster):
        k8s_double.set_pod_phase("default", pod["metadata"]["name"], "Running")
    status = k8s_double.get("ray.io/v1", "RayJob", "rj", "default")["status"]
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Running", "PENDING")
    (submitter,) = _pod_names(k8s_double, "Job", "rj")
    k8s_double.set_pod_phase("default", submitter, "Running")
    assert k8s_double.get("ray.io/v1", "RayJob", "rj", "default")["status"]["jobStatus"] == "RUNNING"
    k8s_double.set_pod_phase("default", submitter, "Succeeded")
    status = k8s_double.get("ray.io/v1", "RayJob", "rj", "default")["status"]
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Complete", "SUCCEEDED")
    assert k8s_double.get("ray.io/v1", "RayCluster", cluster, "default") is None


DASK_CLUSTER_SPEC = {
    "worker": {
        "replicas": 2,
        "spec": {
            "containers": [
                {"name": "worker", "image": "ghcr.io/dask/dask:2024.12.0", "args": ["dask-worker"]}
            ]
        },
    },
    "scheduler": {
        "spec": {
            "containers": [
                {"name": "scheduler", "image": "ghcr.io/dask/dask:2024.12.0", "args": ["dask-scheduler"]}
            ]
        },
        "service": {
            "type": "ClusterIP",
            "ports": [{"name": "tcp-comm", "port": 8786, "protocol": "TCP", "targetPort": "tcp-comm"}],
        },
    },
}


def test_daskcluster_scheduler_and_workers(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskCluster",
            "metadata": {"name": "dc"},
            "spec": DASK_CLUSTER_SPEC,
        }
    )
    deployments = sorted(d["metadata"]["name"] for d in k8s_double.list("apps/v1", "Deployment", "default"))
    assert deployments[0] == "dc-default-worker-" + deployments[0].rsplit("-", 1)[1]
    assert deployments[-1] == "dc-scheduler" and len(deployments) == 3
    assert k8s_double.get("v1", "Service", "dc-scheduler", "default")["spec"]["ports"][0]["port"] == 8786
    assert (
        k8s_double.get("kubernetes.dask.org/v1", "DaskCluster", "dc", "default")["status"]["phase"]
        == "Created"
    )
    (scheduler_pod,) = _pod_names(k8s_double, "Deployment", "dc-scheduler")
    k8s_double.set_pod_phase("default", scheduler_pod, "Running")
    assert (
        k8s_double.get("kubernetes.dask.org/v1", "DaskCluster", "dc", "default")["status"]["phase"]
        == "Running"
    )


def test_daskjob_runner_decides_the_outcome(k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "kubernetes.dask.org/v1",
            "kind": "DaskJob",
            "metadata": {"name": "dj"},
            "spec": {
                "job": {
                    "spec": {
                        "containers": [
                            {
                                "name": "job",
                                "image": "ghcr.io/dask/dask:2024.12.0",
                                "args": ["python", "run.py"],
                            }
                        ]
                    }
                },
                "cluster": {"spec": DASK_CLUSTER_SPEC},
            },
        }
    )
    assert (
        k8s_double.get("kubernetes.dask.org/v1", "DaskJob", "dj", "default")["status"]["jobStatus"]
        == "ClusterCreated"
    )
    (scheduler_pod,) = _pod_names(k8s_double, "Deployment", "dj-scheduler")
    k8s_double.set_pod_phase("default", scheduler_pod, "Running")
    k8s_double.set_pod_phase("default", "dj-runner", "Running")
    assert (
        k8s_double.get("kubernetes.dask.org/v1", "DaskJob", "dj", "default")["status"]["jobStatus"]
        == "Running"
    )
    k8s_double.set_pod_phase("default", "dj-runner", "Failed")
    status = k8s_double.get("kubernetes.dask.org/v1", "DaskJob", "dj", "default")["status"]
    assert status["jobStatus"] == "Failed" and status["endTime"]
    assert k8s_double.get("kubernetes.dask.org/v1", "DaskCluster", "dj", "default") is None


def test_controllers_can_be_paused(k8s_double: K8sDouble) -> None:
    k8s_double.controllers.disable("Job")
    k8s_double.create(_job("held"))
    assert k8s_double.pods_of("default", "Job", "held") == []
    k8s_double.controllers.enable("Job")
    k8s_double.patch("batch/v1", "Job", "held", {"metadata": {"labels": {"nudge": "1"}}}, "default")
    assert len(k8s_double.pods_of("default", "Job", "held")) == 1


def test_refused_pods_become_failed_create_events(k8s_double: K8sDouble) -> None:
    job = _job("train")
    job["spec"]["template"]["spec"]["serviceAccountName"] = "runner"
    k8s_double.create(job)
    assert k8s_double.pods_of("default", "Job", "train") == []
    # each sync retries (a real controller backs off between tries), so there may be several
    failed = [e for e in k8s_double.events_for("default", "Job", "train") if e["reason"] == "FailedCreate"]
    event = failed[-1]
    assert event["type"] == "Warning"
    assert event["message"].startswith('Error creating: pods "train-')
    assert event["message"].endswith(
        'is forbidden: error looking up service account default/runner: serviceaccount "runner" not found'
    )
    # once the account exists, the next sync creates the pod
    k8s_double.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner"}})
    k8s_double.patch("batch/v1", "Job", "train", {"metadata": {"labels": {"retry": "1"}}}, "default")
    assert len(k8s_double.pods_of("default", "Job", "train")) == 1


def test_a_rayjob_whose_raycluster_crd_is_gone_does_nothing(k8s_double: K8sDouble) -> None:
    k8s_double.remove_crd("rayclusters.ray.io")
    created = k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayJob",
            "metadata": {"name": "rj"},
            "spec": {"entrypoint": "python train.py", "rayClusterSpec": RAY_CLUSTER_SPEC},
        }
    )
    assert created["metadata"]["name"] == "rj"
    assert k8s_double.get("ray.io/v1", "RayJob", "rj", "default").get("status") is None
