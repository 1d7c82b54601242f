"""Tracking with no API to talk to: everything lands in the journal, nothing reaches training code."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from tracking_helpers import closed_port, journal_entries, managed_env, only_run_dir, run_script

from mizzen.tracking.journal import RunRecord, read_entries
from mizzen.tracking.run import Run

TRAINING = """
    from mizzen import tracking
    run = tracking.init(project="offline", name="no-server")
    for step in range(100):
        tracking.log_metrics(step=step, loss=1.0 / (step + 1), acc=step / 100)
    tracking.log_outputs(acc=0.99)
    print("trained", run.uuid, flush=True)
"""


def test_without_a_server_the_run_is_journaled_and_the_user_is_told(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = run_script(TRAINING, {"MIZZEN_HOME": str(home)}, tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(home)
    assert "needs one: start it with `mizzen server`" in done.stderr
    assert f"mizzen ops sync {run_dir}" in done.stderr
    record = RunRecord.load(run_dir / ".tracking")
    assert record is not None and record.uuid is None and record.managed is False
    created_at = (record.create or {}).pop("created_at")
    assert record.create == {
        "project": "offline",
        "name": "no-server",
        "description": None,
        "tags": [],
        "managed": False,
        "uuid": record.local_id,  # the run keeps the id the script was given once synced
    }
    assert datetime.fromisoformat(created_at).tzinfo is not None
    entries = journal_entries(run_dir)
    assert entries[0]["status"] == "running"
    metrics = [(e["n"], e["st"]) for e in entries if e["t"] == "m"]
    assert metrics == [(name, step) for step in range(100) for name in ("loss", "acc")]
    assert entries[-2] == {"t": "update", "field": "outputs", "values": {"acc": 0.99}, "s": 201}
    assert entries[-1]["status"] == "succeeded"


def test_an_unreachable_api_does_not_fail_or_hang_the_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    host = f"http://127.0.0.1:{closed_port()}"
    env = {"MIZZEN_HOME": str(home), "MIZZEN_HOST": host, "MIZZEN_TRACKING_EXIT_TIMEOUT": "1"}
    done = run_script(TRAINING, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"cannot reach the Mizzen API at {host}: connection refused" in done.stderr
    run_dir = only_run_dir(home)
    assert "are not uploaded yet" in done.stderr and f"mizzen ops sync {run_dir}" in done.stderr
    entries = journal_entries(run_dir)
    assert sum(1 for e in entries if e["t"] == "m") == 200
    assert list((run_dir / ".tracking").glob("journal-*.ack")) == []  # nothing was acknowledged


def test_a_crash_in_training_ends_the_run_as_failed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = TRAINING + "\n    raise RuntimeError('diverged')\n"
    done = run_script(code, {"MIZZEN_HOME": str(home)}, tmp_path)
    assert done.returncode == 1
    assert "RuntimeError: diverged" in done.stderr  # the user's traceback is still printed
    last = journal_entries(only_run_dir(home))[-1]
    assert (last["t"], last["status"], last["message"]) == ("status", "failed", "RuntimeError: diverged")


def test_inside_a_managed_run_the_journal_goes_to_the_run_folder(tmp_path: Path) -> None:
    artifacts = tmp_path / "runs" / "abc123"
    code = """
        from mizzen import tracking
        tracking.log_metric("loss", 0.5, step=1)  # no init(): attaches to the managed run
        print(tracking.get_outputs_path())
        print(tracking.get_run().uuid)
    """
    done = run_script(code, managed_env(tmp_path / "home", "abc123", artifacts), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(artifacts / "outputs"), "abc123"]
    record = RunRecord.load(artifacts / ".tracking")
    assert record is not None and (record.uuid, record.managed) == ("abc123", True)
    entries = journal_entries(artifacts)
    assert [(e["t"], e.get("n")) for e in entries] == [("m", "loss")]  # a managed run's status is not ours


def test_errors_inside_tracking_never_reach_training_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = Run(RunRecord(local_id="r1"), tmp_path / "r1")
    with caplog.at_level(logging.WARNING, logger="mizzen.tracking"):
        run.log_metric("loss", "not a number")  # type: ignore[arg-type]
        run.log_metric("loss", "still not")  # type: ignore[arg-type]
        run.log_artifact(tmp_path / "missing.bin")
        run.log_image(3.5, "img")
        run.log_dataframe(42, "frame")
        run.log_histogram("h", [])
        run.log_confusion_matrix("cm", [0, 1], [0, 1], [[1, 2]])
        run.log_metric("ok", 1.0, step=0)
        assert run.end() is True
        run.log_metric("late", 1.0)
        run.log_text("late", "ignored")
    messages = [r.getMessage() for r in caplog.records]
    assert sum("log_metric('loss') skipped" in m for m in messages) == 1  # once, not per call
    assert any("no such file or folder" in m and "missing.bin" in m for m in messages)
    assert any("log_image() failed" in m for m in messages)
    assert any("log_dataframe() failed" in m for m in messages)
    assert any("log_histogram() failed" in m and "empty" in m for m in messages)
    assert any("log_confusion_matrix() failed" in m for m in messages)
    assert any("this run has ended" in m for m in messages)
    (path,) = (tmp_path / "r1" / ".tracking").glob("journal-*.ndjson")
    entries = read_entries(path)
    assert [(e["t"], e.get("n"), e.get("status")) for e in entries] == [
        ("m", "ok", None),
        ("status", None, "succeeded"),
    ]


def test_every_log_call_lands_in_the_journal_and_the_run_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "r2"
    run = Run(RunRecord(local_id="r2"), run_dir)
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights")
    outputs_file = Path(run.get_outputs_path() or "") / "preds.csv"
    outputs_file.write_text("1,2\n")
    run.log_inputs(lr=np.float32(0.5), layers=np.array([1, 2]))
    run.log_tags("a", "b")
    run.log_model(model, name="clf", framework="sklearn", summary={"acc": 0.9})
    run.log_artifact(outputs_file)
    run.log_dataframe({"x": [1, 2]}, "table")
    run.log_text("notes", "hello", step=1)
    run.log_html("report", "<b>hi</b>", step=1)
    run.log_image(np.zeros((2, 2)), "zeros", step=3)
    run.log_histogram("weights", np.arange(10), bins=2, step=4)
    run.log_roc_auc_curve("roc", [0, 0.5, 1], [0, 0.8, 1], step=5)
    run.log_pr_curve("pr", [1, 0.5], [0, 1], step=5)
    run.log_confusion_matrix("cm", ["a", "b"], ["a", "b"], [[1, 0], [0, 1]], step=6)
    run.log_env()
    assert run.end() is True
    (path,) = (run_dir / ".tracking").glob("journal-*.ndjson")
    entries = read_entries(path)
    files = {e["dest"]: e["src"] for e in entries if e["t"] == "file"}
    assert files["models/clf/model.pkl"] == str(model.resolve())
    assert files["outputs/preds.csv"] == str(outputs_file.resolve())  # already in the run folder: same path
    for dest in (
        "dataframes/table.csv",
        "events/text/notes/1.txt",
        "events/html/report/1.html",
        "events/image/zeros/3.png",
        "events/histogram/weights/4.json",
        "events/curve/roc/5.json",
        "events/curve/pr/5.json",
        "events/confusion/cm/6.json",
        "env.json",
    ):
        assert (run_dir / dest).is_file(), dest
        assert files[dest] == str(run_dir / dest)
    histogram = json.loads((run_dir / "events/histogram/weights/4.json").read_text())
    assert histogram == {
        "step": 4,
        "timestamp": histogram["timestamp"],
        "bins": [0.0, 4.5, 9.0],
        "counts": [5, 5],
    }
    lineage = {e["record"]["name"]: e["record"] for e in entries if e["t"] == "lineage"}
    assert lineage["clf"] == {
        "name": "clf",
        "kind": "model",
        "path": "models/clf/model.pkl",
        "summary": {"framework": "sklearn", "acc": 0.9},
        "is_input": False,
    }
    assert {lineage[n]["kind"] for n in ("notes", "report", "zeros", "weights", "roc", "cm", "env")} == {
        "text",
        "html",
        "image",
        "histogram",
        "curve",
        "confusion",
        "env",
    }
    updates = [e for e in entries if e["t"] in ("update", "tags")]
    assert updates == [
        {"t": "update", "field": "inputs", "values": {"lr": 0.5, "layers": [1, 2]}, "s": updates[0]["s"]},
        {"t": "tags", "tags": ["a", "b"], "s": updates[1]["s"]},
    ]


def test_a_forked_child_journals_to_its_own_file_and_leaves_the_status_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = """
        import os
        from mizzen import tracking
        tracking.init(project="fork")
        tracking.log_metric("before", 1.0, step=0)
        pid = os.fork()
        if pid == 0:
            tracking.log_metric("child", 2.0, step=1)
            tracking.end()
            os._exit(0)
        os.waitpid(pid, 0)
        tracking.log_metric("parent", 3.0, step=1)
    """
    done = run_script(code, {"MIZZEN_HOME": str(home)}, tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(home)
    journals = sorted((run_dir / ".tracking").glob("journal-*.ndjson"))
    assert len(journals) == 2
    contents = sorted(
        [(e["t"], e.get("n") or e.get("status")) for e in read_entries(path)] for path in journals
    )
    assert contents == [
        [("m", "child")],
        [("status", "running"), ("m", "before"), ("m", "parent"), ("status", "succeeded")],
    ]


def test_a_hung_api_neither_blocks_init_for_long_nor_hangs_the_exit(tmp_path: Path) -> None:
    silent = socket.socket()  # accepts connections in the kernel, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    host = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        env = {
            "MIZZEN_HOME": str(tmp_path / "home"),
            "MIZZEN_HOST": host,
            "MIZZEN_TRACKING_EXIT_TIMEOUT": "1",
        }
        done = run_script(TRAINING, env, tmp_path, timeout=25)  # uploads would wait 30 s for an answer
    finally:
        silent.close()
    assert done.returncode == 0, done.stderr
    assert "trained" in done.stdout
    assert f"the Mizzen API at {host} did not answer in time" in done.stderr
    assert "are not uploaded yet" in done.stderr
    assert sum(1 for e in journal_entries(only_run_dir(tmp_path / "home")) if e["t"] == "m") == 200


def test_logging_before_init_outside_mizzen_run_says_what_to_do(tmp_path: Path) -> None:
    code = """
        from mizzen import tracking
        tracking.log_metric("loss", 1.0)
        tracking.log_metrics(step=1, loss=0.5)
        print(tracking.get_outputs_path())
    """
    done = run_script(code, {"MIZZEN_HOME": str(tmp_path / "home")}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
    assert done.stderr.count("call tracking.init() first") == 1
    assert not (tmp_path / "home").exists()
