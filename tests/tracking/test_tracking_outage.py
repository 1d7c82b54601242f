"""The acceptance test of issue 3: the API goes away in the middle of training and comes back.

Training never raises nor waits on the network; once the API is back (same database, same port)
the backlog goes out by itself, and the stored metrics have no gap and no duplicate.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking_helpers import journal_entries, script_env
from tracking_server import ApiProcess

from mizzen.client import MizzenClient
from mizzen.tracking import sync_journal, uploader
from mizzen.tracking.attach import connector
from mizzen.tracking.journal import AckState, RunRecord, read_entries
from mizzen.tracking.run import Run

STEPS = 900
KILL_AT = 300
RESTART_AT = 600


def _steps_stored(url: str, uuid: str, name: str) -> list[int | None]:
    with MizzenClient(url) as client:
        return client.metrics.history(uuid, name).steps


def test_an_api_outage_mid_training_loses_nothing_and_duplicates_nothing(
    api_process: ApiProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small memory bound, so that the outage's backlog is left on disk and read back from the journal.
    monkeypatch.setattr(uploader, "MAX_PENDING", 200)
    with MizzenClient(api_process.url) as client:
        uuid = client.runs.create(project="outage", name="resilient", managed=False).uuid
    record = RunRecord(local_id=uuid, uuid=uuid, managed=False, host=api_process.url)
    run = Run(record, tmp_path / "run", connect=connector(api_process.url, None))
    assert run._uploader is not None
    run.log_status("running")
    failures_during_outage = 0

    for step in range(STEPS):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
        run.log_metrics(step=step, **{"train/acc": step / STEPS})
        if step == KILL_AT:
            api_process.kill()
        if step == RESTART_AT:
            failures_during_outage = run._uploader.failures
            api_process.start()
        if step % 100 == 0:
            run.log_outputs(last_step=step)
        time.sleep(0.003)

    assert failures_during_outage > 0  # the uploader did see the API gone
    # The backlog goes out without end() or any call from training code: poll the API (bounded).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_steps_stored(api_process.url, uuid, "loss")) < STEPS:
        time.sleep(0.2)
    assert _steps_stored(api_process.url, uuid, "loss") == list(range(STEPS))
    assert run._uploader.spilled_entries > 0  # the backlog waited on disk, not in memory

    assert run.end(timeout=60) is True
    with MizzenClient(api_process.url) as client:
        assert client.metrics.history(uuid, "loss").steps == list(range(STEPS))
        accuracy = client.metrics.history(uuid, "train/acc")
        assert accuracy.steps == list(range(STEPS))
        assert accuracy.values == [s / STEPS for s in range(STEPS)]
        stored = client.runs.get(uuid)
        assert stored.outputs == {"last_step": 800}
        assert stored.status == "succeeded"
    entries = read_entries(run.journal_path)
    cursors = AckState.for_journal(run.journal_path).cursors
    assert cursors["metrics"] == 1 + max(int(e["s"]) for e in entries if e["t"] == "m")
    assert cursors["other"] == 1 + max(int(e["s"]) for e in entries if e["t"] != "m")


KILLED_TRAINING = """
    import time
    from mizzen import tracking
    step = 0
    while True:
        tracking.log_metric("loss", 1.0 / (step + 1), step=step)
        if step % 50 == 0:
            print(step, flush=True)
        step += 1
        time.sleep(0.001)
"""


def _wait_for_step(lines: Iterator[str], at_least: int) -> int:
    for line in lines:
        if int(line) >= at_least:
            return int(line)
    raise AssertionError("the training script stopped printing")


def test_a_training_process_killed_while_the_api_hangs_leaves_a_journal_that_sync_uploads(
    api_process: ApiProcess, tmp_path: Path
) -> None:
    with MizzenClient(api_process.url) as client:
        uuid = client.runs.create(project="killed").uuid
    run_dir = tmp_path / "artifacts" / uuid
    env = script_env(
        MIZZEN_HOME=str(tmp_path / "home"),
        MIZZEN_IS_MANAGED="true",
        MIZZEN_RUN_UUID=uuid,
        MIZZEN_HOST=api_process.url,
        MIZZEN_RUN_ARTIFACTS_PATH=str(run_dir),
    )
    training = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_TRAINING)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert training.stdout is not None
        lines = iter(training.stdout)
        _wait_for_step(lines, 300)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_steps_stored(api_process.url, uuid, "loss")) < 100:
            time.sleep(0.05)
        api_process.freeze()  # the uploader's next request hangs: what it sends may or may not be stored
        frozen_at = _wait_for_step(lines, 0)
        _wait_for_step(lines, frozen_at + 500)  # training goes on while the API hangs
    finally:
        training.send_signal(signal.SIGKILL)
        training.wait(30)
        api_process.thaw()

    logged = [int(e["st"]) for e in journal_entries(run_dir) if e["t"] == "m"]
    assert logged == list(range(len(logged)))  # the journal is a prefix of what was logged, no hole
    assert len(logged) > frozen_at + 100

    with MizzenClient(api_process.url) as client:
        report = sync_journal(run_dir, client)
        assert report.metrics > 0
        stored = client.metrics.history(uuid, "loss")
    assert stored.steps == logged  # no gap, no duplicate
    assert stored.values == [1.0 / (s + 1) for s in logged]
