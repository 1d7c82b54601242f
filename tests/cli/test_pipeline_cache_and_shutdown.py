"""What a new user found: a sweep or a DAG whose children are cache hits, and `mizzen server`
stopped with a sweep under way."""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

from pipeline_support import children_of, eventually, mizzen, pipeline_of, runs, start, sweep

from mizzen.settings import Settings

CACHED_SWEEP = """
version: 1.1
kind: operation
name: cached-sweep
cache: {}
matrix:
  kind: mapping
  values: [{x: 1}, {x: 2}]
component:
  inputs: [{name: x, type: int}]
  run:
    kind: job
    container: {image: x, command: [echo, "{{ x }}"]}
"""

CACHED_DAG = f"""
version: 1.1
kind: operation
name: cached-dag
component:
  run:
    kind: dag
    operations:
    - name: a
      cache: {{}}
      component:
        outputs: [{{name: v, type: int}}]
        run:
          kind: job
          container:
            image: x
            command: [{sys.executable}, -c, "from mizzen import tracking; tracking.init().log_outputs(v=7)"]
    - name: b
      params: {{v: {{ref: ops.a, value: outputs.v}}}}
      component:
        inputs: [{{name: v, type: int}}]
        run: {{kind: job, container: {{image: x, command: [echo, "b got {{{{ v }}}}"]}}}}
"""


def test_a_sweep_of_cache_hits_succeeds(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(CACHED_SWEEP)
    assert mizzen("run", "-f", str(path)).returncode == 0
    again = mizzen("run", "-f", str(path))
    assert again.returncode == 0, again.stdout + again.stderr
    second = max((r for r in runs() if r["kind"] == "matrix"), key=lambda r: r["created_at"])
    assert second["status"] == "succeeded"
    assert {t["status"] for t in children_of(second["uuid"])} == {"skipped"}  # both reused


def test_the_op_after_a_cached_op_runs_with_its_outputs(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "dag.yaml"
    path.write_text(textwrap.dedent(CACHED_DAG))
    assert mizzen("run", "-f", str(path)).returncode == 0
    again = mizzen("run", "-f", str(path))
    assert again.returncode == 0, again.stdout + again.stderr
    second = max((r for r in runs() if r["kind"] == "dag"), key=lambda r: r["created_at"])
    ops = {op["name"]: op for op in children_of(second["uuid"])}
    assert ops["a"]["status"] == "skipped"  # a cache hit
    assert ops["b"]["status"] == "succeeded"
    assert "b got 7" in mizzen("ops", "logs", ops["b"]["uuid"]).stdout


def test_a_server_stopped_mid_sweep_stops_it_and_ops_resume_runs_the_stopped_trials(
    settings: Settings, tmp_path: Path
) -> None:
    release = tmp_path / "go"
    spec = sweep(tmp_path, [0.1, 0.2, 0.3, 0.4], concurrency=2, slow_unless=release)
    server = start("server", "--port", "0")
    try:
        eventually((settings.home / "server.json").exists, "the server to announce itself")
        submitted = mizzen("run", "--detach", "-f", str(spec))
        assert submitted.returncode == 0, submitted.stderr
        pipeline = pipeline_of()
        eventually(
            lambda: len([t for t in children_of(pipeline["uuid"]) if t["status"] == "running"]) == 2,
            "two trials running",
        )
        server.send_signal(signal.SIGINT)  # Ctrl-C: "runs still going are stopped first"
        server.communicate(timeout=120)
    finally:
        server.kill()
    stopped = pipeline_of()
    assert stopped["status"] == "stopped", stopped
    release.touch()
    resumed = mizzen("ops", "resume", stopped["uuid"][:12])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    trials = children_of(stopped["uuid"])
    assert sorted(t["params"]["lr"] for t in trials) == [0.1, 0.2, 0.3, 0.4]  # each grid point once
    assert {t["status"] for t in trials} == {"succeeded"}
    assert pipeline_of()["status"] == "succeeded"


HELD_OP = """
version: 1.1
kind: operation
name: held-dag
component:
  run:
    kind: dag
    operations:
    - name: a
      component: {run: {kind: job, container: {image: x, command: [echo, a]}}}
    - name: b
      dependencies: [a]
      isApproved: false
      component: {run: {kind: job, container: {image: x, command: [echo, b]}}}
"""


def test_an_op_held_for_approval_waits_until_approved(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "held.yaml"
    path.write_text(HELD_OP)
    server = start("server", "--port", "0")
    try:
        eventually((settings.home / "server.json").exists, "the server to announce itself")
        assert mizzen("run", "--detach", "-f", str(path)).returncode == 0
        dag = pipeline_of("dag")

        def ops() -> dict[str, dict[str, object]]:
            return {op["name"]: op for op in children_of(dag["uuid"])}

        eventually(lambda: ops().get("b"), "op b to be created")
        eventually(lambda: ops()["a"]["status"] == "succeeded", "op a to succeed")
        assert ops()["b"]["status"] == "created"  # held
        get = mizzen("ops", "get", str(ops()["b"]["uuid"]))
        assert "WaitingForApproval" in get.stdout
        assert mizzen("ops", "approve", str(ops()["b"]["uuid"])).returncode == 0
        eventually(lambda: pipeline_of("dag")["status"] == "succeeded", "the DAG to succeed")
        assert ops()["b"]["status"] == "succeeded"
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=60)


def test_an_ended_sweep_has_no_trials_to_come_and_its_logs_point_to_its_runs(
    settings: Settings, tmp_path: Path
) -> None:
    from mizzen.cli.pipeline_watch import counts_text
    from mizzen.schemas.pipeline_api import PipelineRead

    view = {"uuid": "0" * 32, "kind": "matrix", "total": 10, "counts": {"succeeded": 3, "failed": 3}}
    assert "4 to come" in counts_text(PipelineRead.model_validate({**view, "status": "running"}))
    ended = counts_text(PipelineRead.model_validate({**view, "status": "failed"}))  # stopped early
    assert "to come" not in ended and "6/10 done" in ended

    path = tmp_path / "sweep.yaml"
    path.write_text(CACHED_SWEEP)
    assert mizzen("run", "-f", str(path)).returncode == 0
    logs = mizzen("ops", "logs", pipeline_of()["uuid"])
    assert logs.returncode == 0 and logs.stdout == ""
    assert "has no logs of its own" in logs.stderr and "ops ls -q pipeline:" in logs.stderr


FAILING_DAG = """
version: 1.1
kind: operation
name: faildag
component:
  run:
    kind: dag
    operations:
    - name: a
      component: {run: {kind: job, container: {image: x, command: [bash, -c, "exit 3"]}}}
    - name: b
      dependencies: [a]
      component: {run: {kind: job, container: {image: x, command: [echo, b]}}}
"""


def test_a_failed_dag_says_which_op_failed_and_why(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "dag.yaml"
    path.write_text(FAILING_DAG)
    result = mizzen("run", "-f", str(path))
    assert result.returncode == 1
    assert "(1 failed, 1 upstream_failed)" in result.stdout
    assert "a failed: main: exit code 3 (mizzen ops logs " in result.stdout


def test_a_param_the_matrix_sets_is_refused_as_p(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(
        "version: 1.1\nkind: operation\nmatrix:\n  kind: grid\n  params: {a: {kind: choice, value: [1, 2]}}\n"
        "component:\n  inputs: [{name: a, type: int}, {name: b, type: int, value: 1}]\n"
        "  run: {kind: job, container: {image: x, command: [echo, '{{ a }} {{ b }}']}}\n"
    )
    refused = mizzen("run", "-f", str(path), "-P", "a=5")
    assert refused.returncode == 1
    assert f"{path}:4:3 matrix: -P a: 'a' is a param of the matrix" in refused.stderr
    assert runs() == []  # nothing was made
    assert mizzen("check", "-f", str(path), "-P", "b=5").returncode == 0  # an input the matrix leaves alone
