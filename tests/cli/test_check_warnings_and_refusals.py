"""What `mizzen check` warns about and a run refuses (item 18), with real CLI processes over a real
embedded store: a connection whose name renders to nothing (`connections:
["{{ params.dest.connection }}"]` with no destination) is refused when the run starts, as the
reference refuses it; the v1 resources form is converted, and said so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
SPEC = """\
version: 1.1
kind: component
inputs:
- {name: dest, type: image, isOptional: true}
run:
  kind: job
  connections: ["{{ params.dest.connection }}"]
  container: {image: python:3.11, command: [python, -c, "print('ran')"]}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    return {**clean, "MIZZEN_HOME": str(tmp_path / "home"), "COLUMNS": "250"}


def mizzen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIZZEN, *args], env=env, capture_output=True, text=True, timeout=180, check=False)


def test_check_warns_and_run_refuses_a_connection_that_renders_to_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "build.yaml"
    spec.write_text(textwrap.dedent(SPEC))
    expected = (
        "build.yaml:7:17 run.connections[0]: connection '{{ params.dest.connection }}' renders to nothing"
    )

    checked = mizzen(env, "check", "-f", str(spec))
    assert checked.returncode == 0, checked.stderr
    assert expected + ": a run would be refused" in checked.stdout + checked.stderr

    ran = mizzen(env, "run", "-f", str(spec))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "ran" not in ran.stdout.split()
    listed = mizzen(env, "ops", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    [run] = json.loads(listed.stdout)
    got = mizzen(env, "ops", "get", run["uuid"], "--json")
    assert got.returncode == 0, got.stderr
    read = json.loads(got.stdout)
    assert read["status"] == "failed"
    reason = read["conditions"][-1]["message"] or ""
    assert (
        "connection '{{ params.dest.connection }}' renders to nothing, so the run cannot start" in reason
    ), read


def test_the_v1_resources_form_is_converted_and_said_so(env: dict[str, str], tmp_path: Path) -> None:
    spec = tmp_path / "legacy.yaml"
    spec.write_text(
        "version: 1.1\n"
        "kind: component\n"
        "run:\n"
        "  kind: job\n"
        "  container:\n"
        "    image: python:3.11\n"
        "    command: [python, -c, 'print(1)']\n"
        "    resources:\n"
        "      cpu: {requests: 1, limits: 2}\n"
        "      memory: {requests: 1Gi}\n"
    )
    checked = mizzen(env, "check", "-f", str(spec))
    assert checked.returncode == 0, checked.stderr
    assert (
        f"warning: {spec}:9:7 run.container.resources: "
        "the v1 form {cpu: {requests: 1, limits: 2}} "
        "is read as requests: {cpu: 1} and limits: {cpu: 2} (Polyaxon 2.x drops it); write it that way"
    ) in checked.stdout
    rendered = mizzen(env, "render", "-f", str(spec), "-o", "json")
    assert rendered.returncode == 0, rendered.stderr
    job = next(o for o in json.loads(rendered.stdout)["items"] if o["kind"] == "Job")
    resources = job["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2"}}
