"""`mizzen run -f` of a pipeline, as a user types it: live progress instead of logs, the exit code
of the pipeline, SIGTERM and SIGKILL of the command, `ops get` of a sweep and a DAG."""

from __future__ import annotations

import io
import signal
import socket
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pipeline_support import (
    all_gone,
    children_of,
    eventually,
    json_of,
    mizzen,
    pids_in,
    pipeline_of,
    runs,
    start,
    sweep,
)

from mizzen.client import MizzenClient
from mizzen.settings import Settings


def test_run_of_a_sweep_shows_its_progress_and_ops_get_ranks_its_trials(
    settings: Settings, tmp_path: Path
) -> None:
    spec = sweep(tmp_path, [0.1, 0.5, 0.3, 0.2])
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    # Not a terminal: one line per change, ending with the counts; no log lines of the trials.
    assert "● running" in result.stdout and "● succeeded (4 of 4 trials succeeded)" in result.stdout
    assert "trials: 4/4 done (4 succeeded) · 0 running · 0 queued" in result.stdout
    assert "✓ matrix tune succeeded" in result.stdout
    pipeline = pipeline_of()
    trials = children_of(pipeline["uuid"])  # `pipeline:` as Polyaxon writes it
    assert sorted(t["params"]["lr"] for t in trials) == [0.1, 0.2, 0.3, 0.5]
    assert {t["status"] for t in trials} == {"succeeded"}

    ranked = json_of("ops", "get", pipeline["uuid"][:8], "--metric", "loss")
    assert ranked["pipeline"]["counts"] == {"succeeded": 4}
    assert [c["params"]["lr"] for c in ranked["children"]] == [0.3, 0.2, 0.1, 0.5]
    assert ranked["pipeline"]["best"]["params"] == {"lr": 0.3}
    table = mizzen("ops", "get", pipeline["uuid"][:8], "--metric", "loss")
    assert table.returncode == 0, table.stderr
    assert "best loss=0 (minimize) lr=0.3: tune-2" in table.stdout
    assert "trials, best loss first" in table.stdout
    best_row = next(line for line in table.stdout.splitlines() if "★" in line)
    assert "tune-2" in best_row
    highest = json_of("ops", "get", pipeline["uuid"][:8], "--metric", "loss", "--maximize")
    assert highest["pipeline"]["best"]["params"] == {"lr": 0.5}


def test_run_of_a_sweep_with_a_failed_trial_exits_1(settings: Settings, tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            version: 1.1
            kind: operation
            name: mixed
            matrix:
              kind: grid
              params:
                code: {kind: choice, value: [0, 3]}
            component:
              inputs: [{name: code, type: int}]
              run: {kind: job, container: {image: x, command: ["sh", "-c", "exit {{ code }}"]}}
            """
        )
    )
    result = mizzen("run", "-f", str(spec))
    pipeline = pipeline_of()
    trials = {t["params"]["code"]: t["status"] for t in children_of(pipeline["uuid"])}
    assert trials == {0: "succeeded", 3: "failed"}
    assert result.returncode == (0 if pipeline["status"] == "succeeded" else 1), result.stdout
    assert "trials: 2/2 done (1 succeeded, 1 failed)" in result.stdout


def test_run_of_a_dag_shows_each_op_and_ops_get_lists_them(settings: Settings, tmp_path: Path) -> None:
    spec = tmp_path / "dag.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            version: 1.1
            kind: operation
            name: flow
            component:
              run:
                kind: dag
                operations:
                - {name: prepare, dagRef: step}
                - {name: train, dagRef: step, dependencies: [prepare]}
                - {name: report, dagRef: step, dependencies: [train]}
                components:
                - {name: step, run: {kind: job, container: {image: x, command: [echo, hi]}}}
            """
        )
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    done = [lines.index(f"  op {op}: succeeded") for op in ("prepare", "train", "report")]
    assert done == sorted(done)  # in the DAG's order
    dag = pipeline_of("dag")
    shown = json_of("ops", "get", dag["uuid"])
    assert [(n["name"], n["status"]) for n in shown["pipeline"]["nodes"]] == [
        ("prepare", "succeeded"),
        ("train", "succeeded"),
        ("report", "succeeded"),
    ]
    assert sorted(map(tuple, shown["pipeline"]["edges"])) == [("prepare", "train"), ("train", "report")]
    table = mizzen("ops", "get", dag["uuid"])
    assert table.returncode == 0 and "ops" in table.stdout
    assert any(line.split()[:3] == ["train", "job", "succeeded"] for line in table.stdout.splitlines())


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 1)])
def test_sigterm_or_ctrl_c_of_mizzen_run_stops_the_sweep_and_its_trials(
    settings: Settings, tmp_path: Path, signum: int, code: int
) -> None:
    """SIGTERM: stopped, 143. Ctrl-C with no terminal to ask on: stopped too, and the pipeline's
    exit code (1: it did not succeed)."""
    spec = sweep(tmp_path, [0.1, 0.2, 0.3, 0.4], slow_unless=tmp_path / "never")
    watcher = start("run", "-f", str(spec))
    try:
        eventually(lambda: len(pids_in(tmp_path)) == 2, "two trials running")
        watcher.send_signal(signum)
        out, err = watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == code, out + err
    assert "Traceback" not in err
    pipeline = pipeline_of()
    assert pipeline["status"] == "stopped"
    trials = children_of(pipeline["uuid"])
    assert len(trials) == 2 and {t["status"] for t in trials} == {"stopped"}
    eventually(lambda: all_gone(pids_in(tmp_path)), "the trials' processes to end", timeout=30)


def test_a_killed_run_of_a_sweep_is_marked_failed_and_ops_resume_finishes_it_with_every_trial_once(
    settings: Settings, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    spec = sweep(tmp_path, values, slow_unless=release)
    watcher = start("run", "-f", str(spec))
    try:
        eventually(lambda: len(pids_in(tmp_path)) == 2, "two trials running")
        watcher.send_signal(signal.SIGKILL)
        watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    eventually(lambda: all_gone(pids_in(tmp_path)), "the killed command's trials to end", timeout=30)
    listed = {run["uuid"]: run for run in runs()}  # the next command tells what the kill left
    pipeline = pipeline_of()
    assert pipeline["status"] == "failed"
    trials = children_of(pipeline["uuid"])
    assert len(trials) == 2 and {t["status"] for t in trials} == {"failed"}
    for uuid in [pipeline["uuid"], *(t["uuid"] for t in trials)]:
        assert listed[uuid]["status"] == "failed"
        reasons = [c["reason"] for c in json_of("ops", "statuses", uuid)]
        assert reasons[-1] == "orphaned", reasons

    release.touch()
    resumed = mizzen("ops", "resume", pipeline["uuid"][:8])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "trials: 5/5 done (5 succeeded)" in resumed.stdout
    assert pipeline_of()["status"] == "succeeded"
    trials = children_of(pipeline["uuid"])
    assert sorted(t["params"]["lr"] for t in trials) == values  # each trial once: exactly 5
    assert len({t["pipeline_key"] for t in trials}) == 5
    assert {t["status"] for t in trials} == {"succeeded"}


def test_on_a_terminal_the_progress_is_drawn_in_place(
    settings: Settings, tmp_path: Path, api_client: MizzenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from mizzen.cli import pipeline_watch

    spec = tmp_path / "dag.yaml"
    spec.write_text(
        textwrap.dedent(
            """
            version: 1.1
            kind: operation
            name: flow
            component:
              run:
                kind: dag
                operations:
                - {name: prepare, dagRef: step}
                - {name: train, dagRef: step, dependencies: [prepare]}
                components:
                - {name: step, run: {kind: job, container: {image: x, command: [echo, hi]}}}
            """
        )
    )
    assert mizzen("run", "-f", str(spec)).returncode == 0
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(pipeline_watch, "console", terminal)
    dag = api_client.runs.get(pipeline_of("dag")["uuid"])
    requests: list[str] = []  # what the watcher asks the API (observed, not changed)
    api_client.transport._http.event_hooks["request"].append(lambda r: requests.append(r.url.path))
    final = pipeline_watch.PipelineWatch(api_client, dag).follow()
    assert final.status == "succeeded"
    # One request per refresh (here one refresh: it is done), then the final state.
    assert requests == [f"/api/v1/runs/{dag.uuid}/pipeline", f"/api/v1/runs/{dag.uuid}"]
    drawn = screen.getvalue()
    assert "flow (dag): succeeded" in drawn and "ops: 2/2 done (2 succeeded)" in drawn
    rows = [line.split() for line in drawn.splitlines()]
    assert ["train", "job", "succeeded", "prepare"] in rows


def test_detach_hands_the_sweep_to_the_server_which_runs_it(settings: Settings, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start("server", "--port", str(port))
    try:
        eventually((settings.home / "server.json").exists, "the server to start")
        spec = sweep(tmp_path, [0.1, 0.2, 0.3])
        detached = mizzen("run", "-f", str(spec), "--detach")
        assert detached.returncode == 0, detached.stdout + detached.stderr
        uuid = detached.stdout.strip()
        assert f"follow it with: mizzen ops get {uuid[:8]}" in detached.stderr

        def finished() -> dict[str, Any] | None:
            run: dict[str, Any] = json_of("ops", "get", uuid)
            return run if run["status"] in ("succeeded", "failed", "stopped") else None

        assert eventually(finished, "the server to finish the sweep")["status"] == "succeeded"
        assert sorted(t["params"]["lr"] for t in children_of(uuid)) == [0.1, 0.2, 0.3]
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def test_run_of_a_sweep_with_a_metric_shows_the_best_trial_so_far(settings: Settings, tmp_path: Path) -> None:
    spec = tmp_path / "tpe.yaml"
    log = "from mizzen import tracking; tracking.init().log_metrics(loss=abs({{ lr }} - 0.3))"
    spec.write_text(
        textwrap.dedent(
            f"""
            version: 1.1
            kind: operation
            name: tuned
            matrix:
              kind: tpe
              numRuns: 2
              metric: {{name: loss, optimization: minimize}}
              params:
                lr: {{kind: choice, value: [0.1, 0.4]}}
            component:
              inputs: [{{name: lr, type: float}}]
              run:
                kind: job
                container: {{image: python, command: ["{sys.executable}", "-c", "{log}"]}}
            """
        )
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    trials = children_of(pipeline_of()["uuid"])
    assert len(trials) == 2
    # TPE may draw the same lr twice: a tie goes to the earlier trial, as the API ranks them.
    earliest_first = sorted(trials, key=lambda t: t["pipeline_key"])
    best = min(earliest_first, key=lambda t: abs(t["params"]["lr"] - 0.3))
    loss = f"{abs(best['params']['lr'] - 0.3):.6g}"
    final = f"best loss={loss} (minimize) lr={best['params']['lr']}: {best['name']} {best['uuid'][:8]}"
    live, summary = result.stdout.split("✓ matrix tuned succeeded")
    assert "  best loss=" in live  # while it ran
    assert f"\n  {final}\n" in summary
