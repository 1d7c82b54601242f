"""`mizzen run` of DAGs end to end, as a user types it: real CLI processes, real jobs, a real store.

The examples in examples/dags run as written; other DAGs check failure propagation, trigger
policies, conditions, nested DAGs, and that a cycle is refused before anything is created."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shared_data import corpus_dir

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "dags"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    return home


def mizzen(*args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MIZZEN, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def runs(*query: str) -> list[dict]:
    result = mizzen("ops", "ls", *query, "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def the_dag() -> dict:
    [dag] = [run for run in runs() if run["kind"] == "dag" and run["pipeline_uuid"] is None]
    return dag


def ops_of(pipeline_uuid: str) -> dict[str, dict]:
    """The children of a pipeline by name, as `mizzen ops ls -q pipeline:UUID` lists them."""
    return {run["name"]: run for run in runs("-q", f"pipeline:{pipeline_uuid}")}


def logs(uuid: str) -> str:
    result = mizzen("ops", "logs", uuid)
    assert result.returncode == 0, result.stderr
    return result.stdout


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_the_three_step_example_passes_a_file_and_a_value_downstream(home: Path) -> None:
    result = mizzen("run", "-u", "-f", "pipeline.yaml", cwd=EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("prepare: succeeded", "train: succeeded", "report: succeeded"):
        assert line in result.stdout  # the watch shows each op's status as it changes
    dag = the_dag()
    assert dag["status"] == "succeeded"
    ops = ops_of(dag["uuid"])
    assert {name: op["status"] for name, op in ops.items()} == {
        "prepare": "succeeded",
        "train": "succeeded",
        "report": "succeeded",
    }
    train = logs(ops["train"]["uuid"])
    assert "train: read rows=42 from prepare; data.csv has 42 rows, first: 0,0" in train
    assert "copied " in train and "data.csv (1 files)" in train  # the init step read prepare's file
    assert "report: train scored 41.0" in logs(ops["report"]["uuid"])
    assert ops["report"]["inputs"] == {"score": 41.0}
    assert ops["train"]["meta"]["upstream"]["prepare"]["outputs"] == {"rows": 42}
    progress = dag["meta"]["pipeline"]
    assert progress["lines"] == ["prepare: succeeded", "train: succeeded", "report: succeeded"]
    short = dag["uuid"][:8]
    assert f"mizzen ops restart {short}" in result.stdout  # a succeeded pipeline is run again, not resumed
    assert "ops resume" not in result.stdout
    hinted = re.search(r'mizzen ops ls -q "(pipeline:\w+)"', result.stdout)
    assert hinted is not None and hinted.group(1) == f"pipeline:{short}", result.stdout
    listed = runs("-q", hinted.group(1))  # the command as printed lists the DAG's ops
    assert sorted(run["name"] for run in listed) == ["prepare", "report", "train"]


def test_the_sweep_in_a_dag_example_runs_its_trials_then_the_next_op(home: Path) -> None:
    result = mizzen("run", "-u", "-f", "sweep_in_dag.yaml", cwd=EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    ops = ops_of(the_dag()["uuid"])
    assert {name: (op["kind"], op["status"]) for name, op in ops.items()} == {
        "prepare": ("job", "succeeded"),
        "search": ("matrix", "succeeded"),
        "summary": ("job", "succeeded"),
    }
    trials = runs("-q", f"pipeline:{ops['search']['uuid']}")
    assert len(trials) == 3 and {t["status"] for t in trials} == {"succeeded"}
    seen = "".join(logs(t["uuid"]) for t in trials)
    for lr in ("0.1", "0.01", "0.001"):
        assert f"fit: lr={lr} on 12 rows" in seen  # each trial read prepare's file
    assert "summary: the search is done" in logs(ops["summary"]["uuid"])


FAILING = """\
    version: 1.1
    kind: operation
    name: breaks
    component:
      run:
        kind: dag
        operations:
        - name: a
          component:
            run: {kind: job, container: {image: x, command: [python, -c, "import sys; sys.exit(3)"]}}
        - name: b
          dependencies: [a]
          component:
            run: {kind: job, container: {image: x, command: [echo, never]}}
        - name: c
          component:
            run: {kind: job, container: {image: x, command: [echo, c ran]}}
    """


def test_a_dag_whose_op_fails_exits_1_and_its_ops_say_why(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "dag.yaml", FAILING)
    result = mizzen("run", "-f", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "op a failed" in result.stdout
    dag = the_dag()
    assert f"mizzen ops resume {dag['uuid'][:8]}" in result.stdout  # a failed pipeline can be continued
    assert dag["status"] == "failed"
    ops = ops_of(dag["uuid"])
    assert {name: op["status"] for name, op in ops.items()} == {
        "a": "failed",
        "b": "upstream_failed",
        "c": "succeeded",
    }
    shown = mizzen("ops", "get", ops["b"]["uuid"]).stdout
    assert "upstream op a ended failed" in " ".join(shown.split())
    listed = mizzen("ops", "ls", "-q", f"pipeline:{dag['uuid']}")
    assert listed.returncode == 0 and all(name in listed.stdout for name in ("a", "b", "c"))


BRANCHES = """\
    version: 1.1
    kind: operation
    name: branches
    component:
      run:
        kind: dag
        operations:
        - name: flip
          component:
            outputs: [{name: side, type: str}]
            run:
              kind: job
              container:
                image: x
                command:
                - python
                - -c
                - from mizzen import tracking; tracking.init(); tracking.log_outputs(side='heads')
        - name: heads
          dagRef: report
          conditions: "{{ ops.flip.outputs.side == 'heads' }}"
          params: {side: {ref: ops.flip, value: outputs.side}}
        - name: tails
          dagRef: report
          conditions: "{{ ops.flip.outputs.side == 'tails' }}"
          params: {side: {ref: ops.flip, value: outputs.side}}
        - name: after-tails
          dependencies: [tails]
          trigger: all_done
          skipOnUpstreamSkip: true
          component:
            run: {kind: job, container: {image: x, command: [echo, never]}}
        - name: boom
          component:
            run: {kind: job, container: {image: x, command: [python, -c, "raise SystemExit(2)"]}}
        - name: rescue
          dependencies: [boom]
          trigger: one_failed
          component:
            run: {kind: job, container: {image: x, command: [echo, "rescued after boom"]}}
        components:
        - name: say
          inputs: [{name: msg, type: str}]
          run: {kind: job, container: {image: x, command: [echo, "{{ msg }}"]}}
        - name: report
          inputs: [{name: side, type: str}]
          run:
            kind: dag
            operations:
            - name: announce
              dagRef: say
              params: {msg: {value: "nested dag got {{ dag.inputs.side }}"}}
    """


def test_conditions_policies_and_a_nested_dag_end_to_end(home: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "dag.yaml", BRANCHES)
    assert mizzen("check", "-f", str(path)).returncode == 0
    result = mizzen("run", "-f", str(path))
    assert result.returncode == 0, result.stdout + result.stderr  # boom's failure is handled by rescue
    ops = ops_of(the_dag()["uuid"])
    assert {name: (op["kind"], op["status"]) for name, op in ops.items()} == {
        "flip": ("job", "succeeded"),
        "heads": ("dag", "succeeded"),
        "tails": ("dag", "skipped"),
        "after-tails": ("job", "skipped"),
        "boom": ("job", "failed"),
        "rescue": ("job", "succeeded"),
    }
    [announce] = runs("-q", f"pipeline:{ops['heads']['uuid']}")
    assert "nested dag got heads" in logs(announce["uuid"])
    assert "rescued after boom" in logs(ops["rescue"]["uuid"])


def test_a_cycle_is_refused_by_check_and_by_run_before_anything_is_created(home: Path) -> None:
    cyclic = corpus_dir() / "cli/cli/tests/fixtures/pipelines/cyclic_pipeline.yml"
    checked = mizzen("check", "-f", str(cyclic))
    assert checked.returncode != 0 and "the DAG has a cycle: A -> B -> A" in checked.stderr
    ran = mizzen("run", "-f", str(cyclic))
    assert ran.returncode != 0 and "the DAG has a cycle" in ran.stderr
    assert runs() == []


def test_stopping_a_dag_stops_its_running_op_and_starts_no_other(home: Path, tmp_path: Path) -> None:
    started = tmp_path / "started"
    path = write(
        tmp_path,
        "dag.yaml",
        f"""\
        version: 1.1
        kind: operation
        component:
          run:
            kind: dag
            operations:
            - name: slow
              component:
                run: {{kind: job, container: {{image: x, command: [sh, -c, "touch {started}; sleep 300"]}}}}
            - name: next
              dependencies: [slow]
              trigger: all_done
              component:
                run: {{kind: job, container: {{image: x, command: [echo, never]}}}}
        """,
    )
    watcher = subprocess.Popen(
        [MIZZEN, "run", "-f", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert time.monotonic() < deadline and watcher.poll() is None, "the op never started"
            time.sleep(0.1)
        dag = the_dag()
        stop = mizzen("ops", "stop", dag["uuid"], "--yes")
        assert stop.returncode == 0, stop.stderr
        watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 1  # the DAG did not succeed
    assert the_dag()["status"] == "stopped"
    ops = ops_of(dag["uuid"])
    assert {name: op["status"] for name, op in ops.items()} == {"slow": "stopped"}  # next never created
