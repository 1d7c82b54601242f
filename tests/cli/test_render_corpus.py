"""`mizzen render` on real polyaxonfiles of the public corpus, as a user types it: the values the
reference (polyaxon 2.18) compiles for the same files, in objects that validate strictly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import k8s_schema
from shared_data import corpus_dir

MIZZEN = str(Path(sys.executable).parent / "mizzen")
CORPUS = corpus_dir()
RAW = "https://raw.githubusercontent.com/polyaxon"

Render = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def render(tmp_path: Path) -> Render:
    """`mizzen render ARGS` in a fresh home, hubRefs found in the corpus's hub, its URLs mirrored."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(tmp_path / "home")
    env["MIZZEN_HUB_PATH"] = str(CORPUS / "polyaxon-hub")
    repos = ("polyaxon-quick-start", "polyaxon-examples")
    env["MIZZEN_URL_MIRRORS"] = ",".join(f"{RAW}/{repo}/master/={CORPUS / repo}" for repo in repos)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, "render", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    return run


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def rendered(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The objects of a render that succeeded, checked against the schemas."""
    assert done.returncode == 0, done.stderr
    objects = documents(done.stdout)
    k8s_schema.assert_valid(objects)
    return objects


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run containers of each pod template of ``obj`` by role (``main`` for a Job's)."""
    found = {}
    for where, template in k8s_schema.pod_templates(obj):
        first = template["spec"]["containers"][0]
        found[where] = first
    return found


def main_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    job = next(o for o in objects if o["kind"] == "Job")
    container: dict[str, Any] = job["spec"]["template"]["spec"]["containers"][0]
    return container


# -- item 16: a whole-field template over a list input -------------------------------------------


@pytest.mark.parametrize(
    ("hub", "default_args"),
    [("aws-cli", ["--version"]), ("gcloud-cli", ["help"]), ("azure-cli", [])],
)
def test_a_whole_field_template_over_a_list_gives_its_items(
    render: Render, hub: str, default_args: list[str]
) -> None:
    file = str(CORPUS / "polyaxon-hub" / hub / "latest.yaml")
    assert main_container(rendered(render("-f", file))).get("args", []) == default_args
    given = main_container(rendered(render("-f", file, "-P", 'args=["s3", "ls", "a b"]')))
    assert given["args"] == ["s3", "ls", "a b"]
    assert main_container(rendered(render("-f", file, "-P", "args=[]"))).get("args", []) == []


# -- item 17: runPatch.container on a distributed run ---------------------------------------------


def test_run_patch_container_reaches_the_workers_of_a_tfjob(render: Render) -> None:
    file = CORPUS / "polyaxon-examples/in_cluster/kubeflow/tfjob/operation-gpu.yml"
    tfjob = next(o for o in rendered(render("-f", str(file))) if o["kind"] == "TFJob")
    worker = tfjob["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["limits"] == {"nvidia.com/gpu": "1"}


def test_run_patch_pod_sections_patch_every_replica(render: Render, tmp_path: Path) -> None:
    component = {
        "version": 1.1,
        "kind": "component",
        "run": {
            "kind": "pytorchjob",
            "master": {"replicas": 1, "container": {"image": "pytorch:2", "command": ["python", "m.py"]}},
            "worker": {"replicas": 3, "container": {"image": "pytorch:2", "command": ["python", "w.py"]}},
        },
    }
    (tmp_path / "component.yaml").write_text(yaml.safe_dump(component))
    operation = {
        "version": 1.1,
        "kind": "operation",
        "pathRef": "component.yaml",
        "runPatch": {
            "container": {"resources": {"limits": {"nvidia.com/gpu": 2}}},
            "environment": {"nodeSelector": {"gpu": "a100"}},
        },
    }
    (tmp_path / "op.yaml").write_text(yaml.safe_dump(operation))
    job = next(o for o in rendered(render("-f", str(tmp_path / "op.yaml"))) if o["kind"] == "PyTorchJob")
    for role in ("Master", "Worker"):
        spec = job["spec"]["pytorchReplicaSpecs"][role]["template"]["spec"]
        assert spec["containers"][0]["resources"]["limits"] == {"nvidia.com/gpu": "2"}, role
        assert spec["nodeSelector"] == {"gpu": "a100"}, role
    assert job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "w.py",
    ]


def test_a_run_patch_section_the_run_lacks_is_an_error_not_dropped(render: Render, tmp_path: Path) -> None:
    (tmp_path / "op.yaml").write_text(
        "version: 1.1\n"
        "kind: operation\n"
        "runPatch:\n"
        "  replicas: 3\n"
        "component:\n"
        "  run:\n"
        "    kind: job\n"
        "    container: {image: python:3.11, command: [python, train.py]}\n"
    )
    done = render("-f", str(tmp_path / "op.yaml"))
    assert done.returncode != 0
    assert "op.yaml:4" in done.stderr and "runPatch.replicas" in done.stderr, done.stderr
    assert "a job run has no 'replicas' section" in done.stderr
    assert "Traceback" not in done.stderr


# -- item 15: `check` rejects what the API server would ---------------------------------------------


def test_check_rejects_a_node_affinity_without_terms(tmp_path: Path) -> None:
    file = CORPUS / "cli/cli/tests/fixtures/plain/job_file_with_environment.yml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    env["MIZZEN_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [MIZZEN, "check", "-f", str(file)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0, done.stdout
    assert f"{file}:16:9" in done.stderr, done.stderr
    assert (
        "requiredDuringSchedulingIgnoredDuringExecution: missing required key 'nodeSelectorTerms'"
        in done.stderr
    )
