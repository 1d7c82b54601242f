"""`mizzen ops resume` of a pipeline that succeeded (a sweep, a DAG, a schedule that fired its
`maxRuns`) is refused with a clear message and a non-zero exit, and changes nothing; a stopped one
still resumes (tests/cli/test_ops_pipelines.py). The real CLI in its own process."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pipeline_support import children_of, mizzen, pipeline_of

from mizzen.settings import Settings

PIPELINES = {
    "matrix": (
        "sweep",
        "every trial ran",
        """
        matrix: {kind: grid, params: {x: {kind: choice, value: [1, 2]}}}
        component:
          inputs: [{name: x, type: int}]
          run: {kind: job, container: {image: x, command: ["true"]}}
        """,
    ),
    "dag": (
        "DAG",
        "every op ran",
        """
        component:
          run:
            kind: dag
            operations:
            - {name: a, component: {run: {kind: job, container: {image: x, command: ["true"]}}}}
            - name: b
              dependencies: [a]
              component: {run: {kind: job, container: {image: x, command: ["true"]}}}
        """,
    ),
    "schedule": (
        "schedule",
        "it fired all its runs",
        """
        schedule: {kind: interval, frequency: 1, maxRuns: 2}
        component:
          run: {kind: job, container: {image: x, command: ["true"]}}
        """,
    ),
}


@pytest.mark.parametrize("kind", sorted(PIPELINES))
def test_resume_of_a_succeeded_pipeline_is_refused(settings: Settings, tmp_path: Path, kind: str) -> None:
    noun, done, body = PIPELINES[kind]
    path = tmp_path / "pipeline.yaml"
    path.write_text("version: 1.1\nkind: operation\nname: p\n" + textwrap.dedent(body))
    ran = mizzen("run", "-f", str(path))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    pipeline = pipeline_of(kind)
    assert pipeline["status"] == "succeeded"
    children = children_of(pipeline["uuid"])

    resumed = mizzen("ops", "resume", pipeline["uuid"][:8])
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr
    message = " ".join(resumed.stderr.split())
    short = pipeline["uuid"][:12]
    assert f"cannot resume {noun} {short}: it succeeded ({done} as specified)" in message, message
    assert f"`mizzen ops restart {short}` runs it again as a new {noun}" in message, message
    assert "Traceback" not in resumed.stderr
    after = pipeline_of(kind)
    assert (after["status"], after["finished_at"]) == ("succeeded", pipeline["finished_at"])
    assert len(children_of(pipeline["uuid"])) == len(children)
