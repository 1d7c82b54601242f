"""End to end: `mizzen run` → the API → `mizzen agent` → the Kubernetes API double → scripted pod
phases → the right final status in the store, with logs readable after the pods are gone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.agent.cluster import NS, Installation, eventually
from tests.agent.kubelet import run_mizzen_init_containers

from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus
IMAGE = "python:3.11-slim"
MAIN = "mizzen-main"


def job_file(url: str = "https://github.com/example/trainer", revision: str = "main") -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "component",
        "name": "trainer",
        "inputs": [{"name": "lr", "type": "float", "value": 0.01, "isOptional": True}],
        "run": {
            "kind": "job",
            "init": [
                {"git": {"url": url, "revision": revision}},
                # `path` too: the compiler reads {connection, one more key} as a git init (reported)
                {"connection": "data", "paths": ["datasets/digits"], "path": "data"},
            ],
            "connections": ["data"],
            "container": {"image": IMAGE, "command": "python train.py --lr={{ lr }}"},
        },
    }


def _init_containers(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in job["spec"]["template"]["spec"]["initContainers"]}


def _logs(setup: Installation, uuid: str) -> list[str]:
    done = setup.mizzen("ops", "logs", uuid, "--json")
    assert done.returncode == 0, done.stderr
    return [line["line"] for line in json.loads(done.stdout)]


def _git_repo(root: Path) -> Path:
    repo = root / "origin" / "trainer"
    repo.mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
    ):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    (repo / "train.py").write_text("print('training')\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "first"], check=True)
    return repo


def test_a_job_with_git_and_s3_from_mizzen_run_to_succeeded(installation: Installation) -> None:
    setup = installation
    repo = _git_repo(setup.root)
    with setup.s3.filesystem().open(f"{setup.data_bucket}/datasets/digits/train.csv", "wb") as handle:
        handle.write(b"pixel,label\n")
    setup.start_agent()
    path = setup.write_polyaxonfile("job.yaml", job_file(url=f"file://{repo}"))
    cli = setup.mizzen_background("run", "-f", str(path), "-P", "lr=0.1", "-p", "e2e")
    run = eventually(lambda: _latest(setup, "e2e"), "the run created by mizzen run")
    job_name = run_object_name("job", run.uuid)
    job = setup.object("batch/v1", "Job", job_name)

    init = _init_containers(job)
    git = next(c for c in init.values() if c["command"] == ["mizzen", "init", "git"])
    assert git["args"][:4] == ["--url", f"file://{repo}", "--revision", "main"]
    data = next(c for c in init.values() if "--connection" in c.get("args", []))
    assert data["command"] == ["mizzen", "init", "paths"]
    assert data["args"][:2] == ["--store", f"s3://{setup.data_bucket}"]
    assert {"secretRef": {"name": "aws-credentials"}} in data.get("envFrom", [])
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["command"] == ["python", "train.py", "--lr=0.1"]

    (pod,) = setup.pods("Job", job_name)
    setup.double.set_pod_phase(NS, pod, "Pending", node="node-1")
    setup.wait_status(run.uuid, S.STARTING)
    # The pod's `mizzen init` containers, run for real: the code and the data are where the run looks.
    pod_root = setup.root / "pod"
    run_mizzen_init_containers(setup.double, pod, pod_root)
    context = pod_root / "mizzen" / "context"
    assert (context / "artifacts" / "trainer" / "train.py").read_text() == "print('training')\n"
    assert (
        context / "artifacts" / "data" / "datasets" / "digits" / "train.csv"
    ).read_text() == "pixel,label\n"
    setup.double.set_pod_phase(NS, pod, "Running")
    setup.wait_status(run.uuid, S.RUNNING)
    setup.double.append_log(NS, pod, MAIN, "epoch 1 loss=0.5\nepoch 2 loss=0.2\n")
    eventually(lambda: "epoch 2 loss=0.2" in _logs(setup, run.uuid), "logs streamed while running")
    setup.double.append_log(NS, pod, MAIN, "done\n")
    setup.double.set_pod_phase(NS, pod, "Succeeded")

    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, (out, err)  # `mizzen run` exits 0: the run succeeded
    final = setup.wait_status(run.uuid, S.SUCCEEDED)
    assert final.plan is not None and final.plan["kind"] == "job"
    assert setup.statuses(run.uuid) == [
        S.CREATED,
        S.COMPILED,
        S.QUEUED,
        S.SCHEDULED,
        S.STARTING,
        S.RUNNING,
        S.SUCCEEDED,
    ]

    setup.double.delete("batch/v1", "Job", job_name, NS, policy="Foreground")
    eventually(
        lambda: (
            not setup.double.pods_of(NS, "Job", job_name)
            and not setup.double.get("batch/v1", "Job", job_name, NS)
        ),
        "the job and its pods deleted",
    )
    main_lines = [line for line in _logs(setup, run.uuid) if line.startswith(("epoch", "done"))]
    assert main_lines == ["epoch 1 loss=0.5", "epoch 2 loss=0.2", "done"]
    assert setup.count("batch/v1", "Job") == 0


def _latest(setup: Installation, project: str) -> Any:
    with setup.client() as client:
        page = client.runs.list(project=project, limit=1)
    return page.items[0] if page.items else None


def service_file() -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "component",
        "name": "board",
        "run": {
            "kind": "service",
            "ports": [6006],
            "container": {"image": IMAGE, "command": ["python", "-m", "http.server", "6006"]},
        },
    }


def _detached(setup: Installation, path: Any, *args: str) -> str:
    done = setup.mizzen("run", "-f", str(path), "--detach", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_service_runs_until_stopped_and_its_objects_go(installation: Installation) -> None:
    setup = installation
    setup.start_agent()
    uuid = _detached(setup, setup.write_polyaxonfile("service.yaml", service_file()), "-p", "e2e")
    name = run_object_name("service", uuid)
    deployment = setup.object("apps/v1", "Deployment", name)
    service = setup.object("v1", "Service", name)
    assert [p["port"] for p in service["spec"]["ports"]] == [6006]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 6006
    (pod,) = setup.pods("Deployment", name)
    setup.double.set_pod_phase(NS, pod, "Running", node="node-2")
    setup.wait_status(uuid, S.RUNNING)
    setup.double.append_log(NS, pod, MAIN, "Serving HTTP on 0.0.0.0 port 6006\n")
    eventually(lambda: "Serving HTTP on 0.0.0.0 port 6006" in _logs(setup, uuid), "the service's log")

    stop = setup.mizzen("ops", "stop", uuid, "--yes", "--timeout", "60")
    assert stop.returncode == 0, stop.stderr
    setup.wait_status(uuid, S.STOPPED)
    eventually(lambda: setup.double.get("apps/v1", "Deployment", name, NS) is None, "the deployment deleted")
    eventually(lambda: setup.double.get("v1", "Service", name, NS) is None, "the service deleted")
    eventually(lambda: not setup.double.pods_of(NS, "Deployment", name), "its pods deleted")
    assert S.STOPPING in setup.statuses(uuid)
    assert "Serving HTTP on 0.0.0.0 port 6006" in _logs(setup, uuid)  # still readable


def pytorch_file(workers: int = 2) -> dict[str, Any]:
    container = {
        "image": "pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
        "command": ["torchrun", "train.py"],
    }
    return {
        "version": 1.1,
        "kind": "component",
        "name": "ddp",
        "run": {
            "kind": "pytorchjob",
            "master": {"replicas": 1, "container": container},
            "worker": {"replicas": workers, "container": container},
        },
    }


def test_a_pytorchjob_with_two_workers_succeeds_with_every_replicas_logs(installation: Installation) -> None:
    setup = installation
    setup.start_agent()
    uuid = _detached(setup, setup.write_polyaxonfile("ddp.yaml", pytorch_file()), "-p", "e2e")
    name = run_object_name("pytorchjob", uuid)
    job = setup.object("kubeflow.org/v1", "PyTorchJob", name)
    specs = job["spec"]["pytorchReplicaSpecs"]
    assert (specs["Master"]["replicas"], specs["Worker"]["replicas"]) == (1, 2)
    pods = setup.pods("PyTorchJob", name, 3)
    assert pods == [f"{name}-master-0", f"{name}-worker-0", f"{name}-worker-1"]
    for pod in pods:
        setup.double.set_pod_phase(NS, pod, "Running", node="node-3")
    setup.wait_status(uuid, S.RUNNING)
    for index, pod in enumerate(pods):
        setup.double.append_log(NS, pod, "pytorch", f"rank {index} ready\n")
    eventually(lambda: _ranks_ready(setup, uuid) == 3, "every replica's logs")
    for pod in pods:
        setup.double.set_pod_phase(NS, pod, "Succeeded")
    setup.wait_status(uuid, S.SUCCEEDED)
    done = setup.mizzen("ops", "logs", uuid, "--json")
    replicas = {line["replica"] for line in json.loads(done.stdout) if line["line"].startswith("rank")}
    assert replicas == {"master-0", "worker-0", "worker-1"}
    setup.double.delete("kubeflow.org/v1", "PyTorchJob", name, NS, policy="Foreground")
    eventually(lambda: not setup.double.pods_of(NS, "PyTorchJob", name), "the pods deleted")
    assert sorted(line for line in _logs(setup, uuid) if line.startswith("rank")) == [
        "rank 0 ready",
        "rank 1 ready",
        "rank 2 ready",
    ]


def _ranks_ready(setup: Installation, uuid: str) -> int:
    return sum(line.startswith("rank") for line in _logs(setup, uuid))


def test_a_resumed_job_runs_again_in_a_new_pod(installation: Installation) -> None:
    setup = installation
    setup.start_agent()
    uuid = _detached(setup, setup.write_polyaxonfile("job.yaml", job_file()), "-p", "e2e")
    name = run_object_name("job", uuid)
    (first,) = setup.pods("Job", name)
    setup.double.set_pod_phase(NS, first, "Running", node="node-1")
    setup.double.set_pod_phase(NS, first, "Failed", exit_code=2)
    setup.wait_status(uuid, S.FAILED)
    resumed = setup.mizzen("ops", "resume", uuid)
    assert resumed.returncode == 0, resumed.stderr
    setup.wait_status(uuid, S.SCHEDULED)
    (second,) = setup.pods("Job", name)
    assert second != first  # the earlier execution's Job was replaced, not adopted
    setup.double.set_pod_phase(NS, second, "Running", node="node-1")
    setup.double.set_pod_phase(NS, second, "Succeeded")
    setup.wait_status(uuid, S.SUCCEEDED)
    assert setup.count("batch/v1", "Job") == 1
    assert setup.run(uuid).meta["owner"] == "default"
