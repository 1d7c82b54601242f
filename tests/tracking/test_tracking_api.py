"""Tracking against the real API: training scripts run as real processes, the server is the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from tracking_helpers import journal_entries, managed_env, only_run_dir, run_script

from mizzen.client import MizzenClient
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings
from mizzen.tracking import sync_journal
from mizzen.tracking.attach import connector
from mizzen.tracking.journal import AckState, RunRecord
from mizzen.tracking.run import Run

TRAINING = """
    import numpy as np
    from mizzen import tracking

    tracking.init(project="demo", name="script", tags=["t1"])
    tracking.log_inputs(lr=0.1, layers=[64, 32])
    for step in range(50):
        tracking.log_metrics(step=step, **{"train/loss": 1.0 / (step + 1), "acc": step / 50})
    with open("model.pkl", "wb") as f:
        f.write(b"weights" * 100)
    tracking.log_model("model.pkl", name="clf", framework="sklearn")
    tracking.log_image(np.eye(4), "eye", step=1)
    tracking.log_text("notes", "all good", step=2)
    tracking.log_tags("t2")
    tracking.log_outputs(acc=0.98)
"""


def _project_runs(client: MizzenClient, project: str) -> list[str]:
    return [r.uuid for r in client.runs.list(project=project).items]


def test_a_script_outside_mizzen_run_creates_its_run_and_uploads_everything(
    api_server: str, client: MizzenClient, tmp_path: Path
) -> None:
    done = run_script(TRAINING, {"MIZZEN_HOME": str(tmp_path / "home"), "MIZZEN_HOST": api_server}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "mizzen.tracking" not in done.stderr  # no warning at all

    (uuid,) = _project_runs(client, "demo")
    run = client.runs.get(uuid)
    assert (run.name, run.managed, run.status) == ("script", False, RunStatus.SUCCEEDED)
    assert [c.type for c in run.conditions or []][-2:] == [RunStatus.RUNNING, RunStatus.SUCCEEDED]
    assert run.inputs == {"lr": 0.1, "layers": [64, 32]}
    assert run.outputs == {"acc": 0.98}
    assert run.tags == ["t1", "t2"]
    loss = client.metrics.history(uuid, "train/loss")
    assert loss.steps == list(range(50))
    assert loss.values == [1.0 / (s + 1) for s in range(50)]
    assert client.metrics.history(uuid, "acc").values[-1] == 49 / 50
    paths = {a.path for a in client.artifacts.list(uuid)}
    assert {"models/clf/model.pkl", "events/image/eye/1.png", "events/text/notes/2.txt"} <= paths
    assert client.artifacts.download(uuid, "models/clf/model.pkl") == b"weights" * 100
    lineage = {(r.name, r.kind, r.path) for r in client.lineage.list(uuid)}
    assert {("clf", "model", "models/clf/model.pkl"), ("eye", "image", "events/image/eye")} <= lineage
    acked = AckState.for_journal(next((only_run_dir(tmp_path / "home") / ".tracking").glob("*.ndjson")))
    last_seq = max(int(e["s"]) for e in journal_entries(only_run_dir(tmp_path / "home")))
    assert max(acked.cursors.values()) == last_seq + 1


def test_a_managed_run_is_attached_from_the_environment(
    api_server: str, client: MizzenClient, tmp_path: Path
) -> None:
    uuid = client.runs.create(project="managed", name="job").uuid
    run_dir = tmp_path / "artifacts" / uuid
    code = """
        from pathlib import Path
        from mizzen import tracking
        for step in range(20):
            tracking.log_metric("loss", 20 - step, step=step)
        out = Path(tracking.get_outputs_path()) / "preds.txt"
        out.write_text("1 2 3")
        tracking.log_artifact(out, kind="data")
        tracking.log_outputs(loss=1)
    """
    done = run_script(code, managed_env(tmp_path / "home", uuid, run_dir, api_server), tmp_path)
    assert done.returncode == 0, done.stderr
    run = client.runs.get(uuid)
    assert run.status == RunStatus.CREATED  # the executor owns a managed run's status
    assert run.outputs == {"loss": 1}
    assert client.metrics.history(uuid, "loss").steps == list(range(20))
    assert client.artifacts.download(uuid, "outputs/preds.txt") == b"1 2 3"
    assert ("preds", "data", "outputs/preds.txt") in {
        (r.name, r.kind, r.path) for r in client.lineage.list(uuid)
    }
    assert _project_runs(client, "managed") == [uuid]  # no second run was created


def test_sync_journal_uploads_an_offline_journal_once(
    api_server: str, client: MizzenClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    done = run_script(TRAINING, {"MIZZEN_HOME": str(home)}, tmp_path)  # no server configured
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(home)
    assert _project_runs(client, "demo") == []

    report = sync_journal(run_dir, client)

    assert (report.metrics, report.busy, report.journals) == (100, [], 1)
    assert _project_runs(client, "demo") == [report.run_uuid]
    run = client.runs.get(report.run_uuid)
    assert (run.name, run.status, run.outputs, run.tags) == (
        "script",
        RunStatus.SUCCEEDED,
        {"acc": 0.98},
        ["t1", "t2"],
    )
    assert client.metrics.history(report.run_uuid, "train/loss").steps == list(range(50))
    assert client.artifacts.download(report.run_uuid, "models/clf/model.pkl") == b"weights" * 100
    record = RunRecord.load(run_dir / ".tracking")
    assert record is not None and record.uuid == report.run_uuid

    lineage_before = client.lineage.list(report.run_uuid)
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    again = sync_journal(report.run_uuid, client)  # by uuid this time: nothing left to send
    assert (again.metrics, again.entries) == (0, 0)
    assert client.metrics.history(report.run_uuid, "train/loss").steps == list(range(50))
    assert len(client.lineage.list(report.run_uuid)) == len(lineage_before)


def test_sync_after_a_lost_ack_sends_no_duplicate(
    api_server: str, client: MizzenClient, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    assert run_script(TRAINING, {"MIZZEN_HOME": str(home)}, tmp_path).returncode == 0
    run_dir = only_run_dir(home)
    first = sync_journal(run_dir, client)
    for ack in (run_dir / ".tracking").glob("*.ack"):
        ack.unlink()  # as if the process died between the upload and writing its cursor
    second = sync_journal(run_dir, client)
    assert second.metrics == 0
    assert client.metrics.history(first.run_uuid, "train/loss").steps == list(range(50))
    assert len(client.lineage.list(first.run_uuid)) == len(
        {(r.name, r.path) for r in client.lineage.list(first.run_uuid)}
    )


def test_sync_leaves_the_journal_of_a_live_process_alone(
    api_server: str, client: MizzenClient, tmp_path: Path
) -> None:
    uuid = client.runs.create(project="live", managed=False).uuid
    record = RunRecord(local_id=uuid, uuid=uuid, managed=False, host=api_server)
    run = Run(record, tmp_path / "run", connect=None)  # journals only, holds its lock
    run.log_metric("loss", 1.0, step=0)
    assert run.flush()
    report = sync_journal(tmp_path / "run", client)
    assert report.busy == [run.journal_path] and report.metrics == 0
    run.end()
    assert sync_journal(tmp_path / "run", client).metrics == 1


@pytest.mark.parametrize("managed", [False, True])
def test_in_process_run_delivers_before_end_returns(
    api_server: str, client: MizzenClient, tmp_path: Path, managed: bool
) -> None:
    uuid = client.runs.create(project="inproc", managed=managed).uuid
    record = RunRecord(local_id=uuid, uuid=uuid, managed=managed, host=api_server)
    run = Run(record, tmp_path / "run", connect=connector(api_server, None))
    if not managed:
        run.log_status("running")
    for step in range(10_000):
        run.log_metric("loss", step * 0.5, step=step)
    assert run.end(timeout=60) is True
    history = client.metrics.history(uuid, "loss")
    assert history.steps == list(range(10_000))
    assert history.values[-1] == 9_999 * 0.5
    expected = RunStatus.CREATED if managed else RunStatus.SUCCEEDED
    assert client.runs.get(uuid).status == expected


def test_files_a_managed_run_writes_into_a_local_store_are_not_uploaded_again(
    api_server: str, client: MizzenClient, settings: Settings, tmp_path: Path
) -> None:
    uuid = client.runs.create(project="embedded").uuid
    run_dir = Path(settings.resolved_artifacts_store) / uuid  # what the local executor hands a run
    code = """
        import os
        from pathlib import Path
        import numpy as np
        from mizzen import tracking
        model = Path(tracking.get_outputs_path()) / "model.bin"
        model.write_bytes(os.urandom(3_000_000))
        print(model.stat().st_ino, flush=True)
        tracking.log_model(model, framework="none")
        tracking.log_image(np.ones((3, 3)), "ones", step=0)
    """
    done = run_script(code, managed_env(tmp_path / "home", uuid, run_dir, api_server), tmp_path)
    assert done.returncode == 0, done.stderr
    model = run_dir / "outputs" / "model.bin"
    assert model.stat().st_ino == int(done.stdout)  # the same file: the server did not rewrite it
    stored = {a.path: a.size for a in client.artifacts.list(uuid)}
    assert stored["outputs/model.bin"] == 3_000_000
    assert "events/image/ones/0.png" in stored
    assert client.artifacts.download(uuid, "outputs/model.bin") == model.read_bytes()
    kinds = {(r.name, r.kind, r.path) for r in client.lineage.list(uuid)}
    assert {("model", "model", "outputs/model.bin"), ("ones", "image", "events/image/ones")} <= kinds
