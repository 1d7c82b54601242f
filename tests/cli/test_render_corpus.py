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
