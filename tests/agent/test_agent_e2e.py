"""End to end: `mizzen run` → the API → `mizzen agent` → the Kubernetes API double → scripted pod
phases → the right final status in the store, with logs readable after the pods are gone."""

from __future__ import annotations

import json
from typing import Any

from tests.agent.cluster import NS, Installation, eventually

from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus
IMAGE = "python:3.11-slim"
MAIN = "mizzen-main"


def job_file(revision: str = "main") -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "component",
        "name": "trainer",
        "inputs": [{"name": "lr", "type": "float", "value": 0.01, "isOptional": True}],
        "run": {
            "kind": "job",
            "init": [
                {"git": {"url": "https://github.com/example/trainer", "revision": revision}},
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


def test_a_job_with_git_and_s3_from_mizzen_run_to_succeeded(installation: Installation) -> None:
    setup = installation
    setup.start_agent()
    path = setup.write_polyaxonfile("job.yaml", job_file())
    cli = setup.mizzen_background("run", "-f", str(path), "-P", "lr=0.1", "-p", "e2e")
    run = eventually(lambda: _latest(setup, "e2e"), "the run created by mizzen run")
    job_name = run_object_name("job", run.uuid)
    job = setup.object("batch/v1", "Job", job_name)

    init = _init_containers(job)
    git = next(c for c in init.values() if c["command"] == ["mizzen", "init", "git"])
    assert git["args"][:4] == ["--url", "https://github.com/example/trainer", "--revision", "main"]
    data = next(c for c in init.values() if "--connection" in c.get("args", []))
    assert data["command"] == ["mizzen", "init", "paths"]
    assert data["args"][:2] == ["--store", f"s3://{_bucket(setup)}"]
    assert {"secretRef": {"name": "aws-credentials"}} in data.get("envFrom", [])
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["command"] == ["python", "train.py", "--lr=0.1"]

    (pod,) = setup.pods("Job", job_name)
    setup.double.set_pod_phase(NS, pod, "Pending", node="node-1")
    setup.wait_status(run.uuid, S.STARTING)
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


def _bucket(setup: Installation) -> str:
    import yaml

    catalog = yaml.safe_load((setup.root / "agent-home" / "connections.yaml").read_text())
    return str(catalog["connections"][0]["schema"]["bucket"]).removeprefix("s3://")
