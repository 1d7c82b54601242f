"""The end-to-end scenarios of tests/agent, against a real cluster: pods really run, so the run's
own containers (and Mizzen's init and sidecar containers) do the work the test double scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from tests.agent.support import eventually
from tests.e2e.cluster_support import POLL_SECONDS, E2eInstallation

from mizzen.client import MizzenClient
from mizzen.render.k8s import run_object_name
from mizzen.render.k8s.metadata import RUN_UUID
from mizzen.schemas.statuses import RunStatus

S = RunStatus
PYTHON = "python:3.11-slim"


def _file(setup: E2eInstallation, name: str, content: dict[str, Any]) -> Path:
    path = setup.root / name
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def _latest_uuid(setup: E2eInstallation) -> str:
    with MizzenClient(setup.api.url) as client:
        return client.runs.list(project="e2e", limit=1).items[0].uuid


def _gone(setup: E2eInstallation, kind: str, uuid: str) -> None:
    """Delete the run's top object and wait until its pods are gone (logs must outlive them)."""
    name = run_object_name(kind, uuid)
    setup.kubectl.run("delete", kind, name, "--cascade=foreground", "--wait=true", check=False)
    selector = f"{RUN_UUID}={uuid}"
    eventually(
        lambda: not setup.kubectl.items("pods", selector),
        f"the pods of {kind} {name} gone",
        setup.config.timeout,
        POLL_SECONDS,
    )


def test_a_job_with_git_and_s3(started: E2eInstallation) -> None:
    setup = started
    repo = setup.config.git_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    script = (
        f"ls /mizzen/context/artifacts/{repo} > /dev/null && "
        "cat /mizzen/context/artifacts/data/datasets/digits/train.csv && echo e2e-job-done"
    )
    path = _file(
        setup,
        "job.yaml",
        {
            "version": 1.1,
            "kind": "component",
            "name": "e2e-job",
            "run": {
                "kind": "job",
                "init": [
                    {"git": {"url": setup.config.git_url}},
                    {"connection": "data", "paths": ["datasets/digits"], "path": "data"},
                ],
                "connections": ["data"],
                "container": {"image": PYTHON, "command": ["sh", "-c", script]},
            },
        },
    )
    done = setup.mizzen("run", "-f", str(path), "-p", "e2e")
    assert done.returncode == 0, (done.stdout, done.stderr)
    uuid = _latest_uuid(setup)
    assert setup.run(uuid).status == S.SUCCEEDED
    _gone(setup, "job", uuid)
    lines = setup.log_lines(uuid)
    assert "pixel,label" in lines and "e2e-job-done" in lines


def test_a_service_until_stopped(started: E2eInstallation) -> None:
    setup = started
    path = _file(
        setup,
        "service.yaml",
        {
            "version": 1.1,
            "kind": "component",
            "name": "e2e-service",
            "run": {
                "kind": "service",
                "ports": [8000],
                "container": {"image": PYTHON, "command": ["python", "-u", "-m", "http.server", "8000"]},
            },
        },
    )
    done = setup.mizzen("run", "-f", str(path), "-p", "e2e", "--detach")
    assert done.returncode == 0, done.stderr
    uuid = done.stdout.strip()
    setup.wait_status(uuid, S.RUNNING)
    stop = setup.mizzen("ops", "stop", uuid, "--yes", "--timeout", str(int(setup.config.timeout)))
    assert stop.returncode == 0, stop.stderr
    setup.wait_status(uuid, S.STOPPED)
    name = run_object_name("service", uuid)
    eventually(
        lambda: setup.kubectl.run("get", "deployment", name, check=False).returncode != 0,
        "the deployment deleted",
        setup.config.timeout,
        POLL_SECONDS,
    )


def test_a_pytorchjob_with_two_workers(started: E2eInstallation) -> None:
    setup = started
    crds = setup.kubectl.run("get", "crd", "pytorchjobs.kubeflow.org", check=False)
    assert crds.returncode == 0, "this scenario needs the Kubeflow training operator in the cluster"
    container = {
        "image": PYTHON,
        "command": [
            "python",
            "-c",
            "import os; print('rank', os.environ['RANK'], 'of', os.environ['WORLD_SIZE'])",
        ],
    }
    path = _file(
        setup,
        "ddp.yaml",
        {
            "version": 1.1,
            "kind": "component",
            "name": "e2e-ddp",
            "run": {
                "kind": "pytorchjob",
                "master": {"replicas": 1, "container": container},
                "worker": {"replicas": 2, "container": container},
            },
        },
    )
    done = setup.mizzen("run", "-f", str(path), "-p", "e2e")
    assert done.returncode == 0, (done.stdout, done.stderr)
    uuid = _latest_uuid(setup)
    _gone(setup, "pytorchjob", uuid)
    ranks = sorted(line for line in setup.log_lines(uuid) if line.startswith("rank "))
    assert ranks == ["rank 0 of 3", "rank 1 of 3", "rank 2 of 3"]


def test_an_agent_killed_mid_run_is_replaced_without_duplicates(started: E2eInstallation) -> None:
    setup = started
    path = _file(
        setup,
        "slow.yaml",
        {
            "version": 1.1,
            "kind": "component",
            "name": "e2e-slow",
            "run": {
                "kind": "job",
                "container": {"image": PYTHON, "command": ["sh", "-c", "sleep 45; echo finished"]},
            },
        },
    )
    done = setup.mizzen("run", "-f", str(path), "-p", "e2e", "--detach")
    assert done.returncode == 0, done.stderr
    uuid = done.stdout.strip()
    setup.wait_status(uuid, S.RUNNING)
    setup.agents[-1].kill()
    setup.agents[-1].wait(30)
    setup.start_agent()
    setup.wait_status(uuid, S.SUCCEEDED)
    assert len(setup.kubectl.items("jobs", f"{RUN_UUID}={uuid}")) == 1
    assert setup.log_lines(uuid).count("finished") == 1
