"""The acceptance test of issue 3: the API goes away in the middle of training and comes back.

Training never raises nor waits on the network; once the API is back (same database, same port)
the backlog goes out by itself, and the stored metrics have no gap and no duplicate.
"""

from __future__ import annotations

import time
from pathlib import Path

from tracking_server import ApiProcess

from mizzen.client import MizzenClient
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
    api_process: ApiProcess, tmp_path: Path
) -> None:
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
