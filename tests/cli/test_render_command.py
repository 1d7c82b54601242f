"""`mizzen render --target kubernetes`: the manifests of every run a polyaxonfile makes, strictly
valid, in the order and with the comments a reader needs; clear errors otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import k8s_schema

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "polyaxonfile.yaml"
MIZZEN = str(Path(sys.executable).parent / "mizzen")

Render = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def render(tmp_path: Path) -> Render:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(tmp_path / "home")

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, "render", *args],
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def _write(tmp_path: Path, name: str, content: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


def test_the_quickstart_renders_as_the_agent_would_submit_it(render: Render) -> None:
    done = render("-f", str(QUICKSTART), "-P", "lr=0.05", "--namespace", "ml")
    assert done.returncode == 0, done.stderr
    objects = _documents(done.stdout)
    assert [(o["kind"], o["metadata"]["namespace"]) for o in objects] == [("Secret", "ml"), ("Job", "ml")]
    k8s_schema.assert_valid(objects)
    job = objects[1]
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["image"] == "python:3.11-slim"
    assert main["command"] == ["python", "train.py", "--lr=0.05", "--epochs=20"]
    token = next(e for e in main["env"] if e["name"] == "MIZZEN_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["name"] == objects[0]["metadata"]["name"]
    assert done.stdout.startswith("---\n# run: quickstart (job)")
    assert render("-f", str(QUICKSTART), "-P", "lr=0.05", "--namespace", "ml").stdout == done.stdout  # stable


def test_the_artifacts_store_of_the_agent_env_is_used(render: Render) -> None:
    env = {"MIZZEN_ARTIFACTS_STORE": "s3://team-artifacts", "MIZZEN_AGENT_ARTIFACTS_SECRET": "store-creds"}
    done = render("-f", str(QUICKSTART), extra_env=env)
    assert done.returncode == 0, done.stderr
    job = _documents(done.stdout)[1]
    sidecar = next(
        c for c in job["spec"]["template"]["spec"]["initContainers"] if c["command"][1] == "sidecar"
    )
    assert sidecar["args"][sidecar["args"].index("--store") + 1] == "s3://team-artifacts"
    assert {"secretRef": {"name": "store-creds"}} in sidecar["envFrom"]
    k8s_schema.assert_valid(_documents(done.stdout))


def pytorch_file() -> dict[str, Any]:
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
            "worker": {
                "replicas": 2,
                "container": {**container, "resources": {"limits": {"nvidia.com/gpu": 1}}},
            },
        },
    }


def test_a_pytorchjob_renders_valid_against_its_crd(render: Render, tmp_path: Path) -> None:
    done = render("-f", str(_write(tmp_path, "ddp.yaml", pytorch_file())), "-o", "json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert listed["kind"] == "List"
    objects = listed["items"]
    k8s_schema.assert_valid(objects)
    [job] = [o for o in objects if o["kind"] == "PyTorchJob"]
    specs = job["spec"]["pytorchReplicaSpecs"]
    assert (specs["Master"]["replicas"], specs["Worker"]["replicas"]) == (1, 2)
    worker = specs["Worker"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"


DAG = """
version: 1.1
kind: component
name: pipeline
run:
  kind: dag
  operations:
  - name: evaluate
    dagRef: evaluator
    dependencies: [train]
    params:
      loss: {ref: ops.train, value: outputs.loss}
  - {name: prepare, dagRef: preparer}
  - {name: train, dagRef: trainer, dependencies: [prepare]}
  components:
  - name: preparer
    run: {kind: job, container: {image: busybox, command: ["true"]}}
  - name: trainer
    outputs: [{name: loss, type: float}]
    run: {kind: job, container: {image: "python:3.11-slim", command: [python, train.py]}}
  - name: evaluator
    inputs: [{name: loss, type: float}]
    run: {kind: job, container: {image: "python:3.11-slim", command: "python eval.py --loss={{ loss }}"}}
"""


def dag_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DAG)
    return data


def test_a_dag_renders_each_op_in_topological_order_with_placeholders(render: Render, tmp_path: Path) -> None:
    done = render("-f", str(_write(tmp_path, "dag.yaml", dag_file())))
    assert done.returncode == 0, done.stderr
    ops = [line for line in done.stdout.splitlines() if line.startswith("# op: ")]
    assert ops == ["# op: prepare (job)", "# op: train (job)", "# op: evaluate (job)"]
    assert "# after: train (trigger all_succeeded)" in done.stdout
    objects = _documents(done.stdout)
    k8s_schema.assert_valid(objects)
    jobs = [o for o in objects if o["kind"] == "Job"]
    assert [j["metadata"]["labels"]["mizzen.dev/run-name"] for j in jobs] == ["prepare", "train", "evaluate"]
    evaluate = jobs[2]["spec"]["template"]["spec"]["containers"][0]
    assert evaluate["command"] == ["python", "eval.py", "--loss=<ops.train.outputs.loss>"]
    assert len({j["metadata"]["name"] for j in jobs}) == 3  # one run per op


SWEEP = """
version: 1.1
kind: operation
matrix:
  kind: grid
  params:
    lr: {kind: choice, value: [0.1, 0.01]}
    depth: {kind: range, value: [2, 5, 1]}
component:
  name: sweep
  inputs:
  - {name: lr, type: float}
  - {name: depth, type: int, value: 3, isOptional: true}
  run:
    kind: job
    container: {image: "python:3.11-slim", command: "python t.py {{ lr }} {{ depth }}"}
"""


def grid_file(kind: str = "grid") -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SWEEP)
    if kind == "random":
        data["matrix"] = {
            "kind": "random",
            "numRuns": 10,
            "seed": 7,
            "params": {"lr": {"kind": "uniform", "value": [0.001, 0.1]}},
        }
    return data


def test_a_grid_renders_its_first_trials_with_their_params(render: Render, tmp_path: Path) -> None:
    done = render("-f", str(_write(tmp_path, "grid.yaml", grid_file())), "--trials", "4")
    assert done.returncode == 0, done.stderr
    trials = [line for line in done.stdout.splitlines() if line.startswith("# trial ")]
    assert trials == [
        "# trial 1 of the grid sweep sweep: lr=0.1, depth=2",
        "# trial 2 of the grid sweep sweep: lr=0.1, depth=3",
        "# trial 3 of the grid sweep sweep: lr=0.1, depth=4",
        "# trial 4 of the grid sweep sweep: lr=0.01, depth=2",
    ]
    jobs = [o for o in _documents(done.stdout) if o["kind"] == "Job"]
    commands = [j["spec"]["template"]["spec"]["containers"][0]["command"] for j in jobs]
    assert commands == [
        ["python", "t.py", lr, depth]
        for lr, depth in (("0.1", "2"), ("0.1", "3"), ("0.1", "4"), ("0.01", "2"))
    ]
    k8s_schema.assert_valid(_documents(done.stdout))


def test_a_random_search_samples_its_trials_reproducibly(render: Render, tmp_path: Path) -> None:
    path = _write(tmp_path, "random.yaml", grid_file("random"))
    first, again = render("-f", str(path)), render("-f", str(path))
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    trials = [line for line in first.stdout.splitlines() if line.startswith("# trial ")]
    assert len(trials) == 3
    values = [float(line.split("lr=")[1].split(",")[0]) for line in trials]
    assert all(0.001 <= value <= 0.1 for value in values) and len(set(values)) == 3


def test_a_schedule_renders_one_of_its_runs(render: Render, tmp_path: Path) -> None:
    spec = yaml.safe_load(
        """
        version: 1.1
        kind: operation
        schedule: {kind: cron, cron: "0 2 * * *"}
        component:
          name: nightly
          run: {kind: job, container: {image: busybox, command: [date]}}
        """
    )
    done = render("-f", str(_write(tmp_path, "nightly.yaml", spec)))
    assert done.returncode == 0, done.stderr
    assert "# one run of its schedule (cron '0 2 * * *')" in done.stdout
    assert [o["kind"] for o in _documents(done.stdout)] == ["Secret", "Job"]


def test_what_cannot_render_says_why(render: Render, tmp_path: Path) -> None:
    no_image = {
        "version": 1.1,
        "kind": "component",
        "run": {"kind": "job", "container": {"command": ["true"]}},
    }
    done = render("-f", str(_write(tmp_path, "no-image.yaml", no_image)))
    assert done.returncode == 1
    assert "has no image" in done.stderr and "Traceback" not in done.stderr
    missing = render("-f", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "nope.yaml: no such file" in missing.stderr
    bad = {"version": 1.1, "kind": "component", "run": {"kind": "job", "contaner": {}}}
    located = render("-f", str(_write(tmp_path, "typo.yaml", bad)))
    assert located.returncode == 1 and "contaner" in located.stderr
    needs = render("-f", str(_write(tmp_path, "grid.yaml", grid_file())), "--target", "local")
    assert needs.returncode == 2 and "kubernetes" in needs.stderr
