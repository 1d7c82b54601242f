"""The typed client against the real API (``create_app`` served by uvicorn on an ephemeral port)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mizzen.client import ApiConflict, ApiNotFound, ApiRequestError, MizzenClient
from mizzen.schemas.api import LineageCreate, LogLine, MetricPoint, RunCreate
from mizzen.schemas.statuses import RunStatus


def test_health(client: MizzenClient) -> None:
    assert client.health()["status"] == "ok"


def test_projects_crud_and_errors(client: MizzenClient) -> None:
    created = client.projects.create("vision", description="cnn things", tags=["cv"])
    assert (created.name, created.description, created.tags) == ("vision", "cnn things", ["cv"])
    with pytest.raises(ApiConflict):
        client.projects.create("vision")
    assert "vision" in [p.name for p in client.projects.list()]
    assert client.projects.update("vision", description="new").description == "new"
    assert client.projects.get("vision").tags == ["cv"]
    client.projects.delete("vision")
    with pytest.raises(ApiNotFound) as missing:
        client.projects.get("vision")
    assert "vision" in str(missing.value)


def test_runs_create_list_get_update_delete(client: MizzenClient) -> None:
    first = client.runs.create(project="exp", name="first", params={"lr": 0.1}, tags=["a"])
    second = client.runs.create(RunCreate(project="exp", name="second", managed=False))
    assert (first.project, first.name, first.status) == ("exp", "first", RunStatus.CREATED)
    assert second.managed is False
    listed = client.runs.list(project="exp", sort="name")
    assert [r.name for r in listed.items] == ["first", "second"] and listed.count == 2
    page = client.runs.list(project="exp", sort="name", limit=1, offset=1)
    assert [r.name for r in page.items] == ["second"]
    client.runs.update(first.uuid, outputs={"acc": 0.5})
    updated = client.runs.update(first.uuid, outputs={"loss": 0.1}, tags=["a", "b"])
    assert updated.outputs == {"acc": 0.5, "loss": 0.1}  # merged
    assert updated.tags == ["a", "b"]
    assert client.runs.get(first.uuid).params == {"lr": 0.1}
    client.runs.delete(second.uuid)
    with pytest.raises(ApiNotFound):
        client.runs.get(second.uuid)


def test_statuses_and_invalid_transitions(client: MizzenClient) -> None:
    run = client.runs.create(project="exp", managed=False)
    assert client.statuses.set(run.uuid, "running").status == RunStatus.RUNNING
    assert client.statuses.set(run.uuid, RunStatus.SUCCEEDED, reason="done").status == RunStatus.SUCCEEDED
    with pytest.raises(ApiConflict) as refused:
        client.statuses.set(run.uuid, "running")
    assert "succeeded" in str(refused.value) and "running" in str(refused.value)
    assert [c.type for c in client.statuses.list(run.uuid)][-2:] == [RunStatus.RUNNING, RunStatus.SUCCEEDED]


def test_metrics_batch_history_and_summaries(client: MizzenClient) -> None:
    run = client.runs.create(project="exp")
    now = time.time()
    points = [
        MetricPoint(name="train/loss", value=1.0 / (s + 1), step=s, timestamp=now + s) for s in range(100)
    ]
    assert client.metrics.log(run.uuid, points) == 100
    assert client.metrics.log(run.uuid, [{"name": "acc", "value": 0.9, "step": 3, "timestamp": now}]) == 1
    history = client.metrics.history(run.uuid, "train/loss")  # a slash in the name
    assert history.steps == list(range(100))
    assert history.timestamps == [now + s for s in range(100)]
    assert history.values[:2] == [1.0, 0.5]
    assert len(client.metrics.history(run.uuid, "train/loss", max_points=10).steps) <= 10
    summaries = {s.name: s for s in client.metrics.summaries(run.uuid)}
    assert summaries["train/loss"].last == pytest.approx(0.01) and summaries["train/loss"].count == 100
    assert summaries["acc"].last_step == 3


def test_bad_request_names_the_field(client: MizzenClient) -> None:
    run = client.runs.create(project="exp")
    with pytest.raises(ApiRequestError) as bad:
        client.metrics.log(run.uuid, [{"name": "loss", "value": "high", "step": 0, "timestamp": 1.0}])
    assert bad.value.status_code == 422
    assert bad.value.field is not None and "value" in bad.value.field


def test_artifacts_upload_list_download(client: MizzenClient, tmp_path: Path) -> None:
    run = client.runs.create(project="exp")
    model = tmp_path / "model.bin"
    model.write_bytes(bytes(range(256)) * 1000)
    stored = client.artifacts.upload_file(run.uuid, model, "models/model.bin")
    assert (stored.path, stored.size) == ("models/model.bin", 256_000)
    folder = tmp_path / "data"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.csv").write_text("a\n1\n")
    (folder / "nested" / "b.txt").write_text("b")
    client.artifacts.upload_dir(run.uuid, folder, "inputs/data")
    client.artifacts.upload_bytes(run.uuid, b"hello", "notes/with space.txt")
    paths = sorted(a.path for a in client.artifacts.list(run.uuid))
    assert {
        "models/model.bin",
        "inputs/data/a.csv",
        "inputs/data/nested/b.txt",
        "notes/with space.txt",
    } <= set(paths)
    assert [a.path for a in client.artifacts.list(run.uuid, prefix="inputs/")] == [
        "inputs/data/a.csv",
        "inputs/data/nested/b.txt",
    ]
    assert client.artifacts.download(run.uuid, "notes/with space.txt") == b"hello"
    target = client.artifacts.download_to(run.uuid, "models/model.bin", tmp_path / "out" / "m.bin")
    assert target.read_bytes() == model.read_bytes()
    copied = client.artifacts.download_dir(run.uuid, tmp_path / "copy", prefix="inputs/")
    assert sorted(p.relative_to(tmp_path / "copy").as_posix() for p in copied) == [
        "inputs/data/a.csv",
        "inputs/data/nested/b.txt",
    ]
    with pytest.raises(ApiNotFound):
        client.artifacts.download(run.uuid, "nope.txt")


def test_lineage(client: MizzenClient) -> None:
    run = client.runs.create(project="exp")
    record = LineageCreate(name="clf", kind="model", path="models/clf.pkl", summary={"framework": "sklearn"})
    created = client.lineage.create(run.uuid, [record])
    assert [(r.name, r.kind, r.summary) for r in created] == [("clf", "model", {"framework": "sklearn"})]
    assert [r.path for r in client.lineage.list(run.uuid)] == ["models/clf.pkl"]


def test_logs_append_read_and_follow_until_the_run_ends(client: MizzenClient) -> None:
    run = client.runs.create(project="exp", managed=False)
    client.statuses.set(run.uuid, "running")
    now = time.time()
    client.logs.append(
        run.uuid, [LogLine(timestamp=now, line="epoch 1"), LogLine(timestamp=now, line="epoch 2")]
    )
    chunk = client.logs.get(run.uuid)
    assert [line.line for line in chunk.lines] == ["epoch 1", "epoch 2"] and chunk.done is False
    assert [line.line for line in client.logs.get(run.uuid, offset=chunk.next_offset).lines] == []

    def finish() -> None:
        with MizzenClient(client.host) as other:
            other.logs.append(run.uuid, [LogLine(timestamp=time.time(), line="epoch 3", container="main")])
            other.statuses.set(run.uuid, "succeeded")

    followed: list[str] = []
    writer = threading.Timer(0.5, finish)
    writer.start()
    for line in client.logs.follow(run.uuid):
        followed.append(line.line)
    writer.join()
    assert followed == ["epoch 1", "epoch 2", "epoch 3"]


def test_cloning_and_stop(client: MizzenClient) -> None:
    spec = {
        "kind": "operation",
        "component": {
            "inputs": [{"name": "lr", "type": "float"}],
            "run": {"kind": "job", "container": {"image": "x"}},
        },
    }
    run = client.runs.create(project="exp", name="orig", spec=spec, params={"lr": 0.1})
    copy = client.runs.copy(run.uuid, name="copy", params={"lr": 0.2})
    assert (copy.original_uuid, copy.cloning_kind, copy.params) == (run.uuid, "copy", {"lr": 0.2})
    stopped = client.runs.stop(run.uuid)
    assert stopped.status in (RunStatus.STOPPING, RunStatus.STOPPED)
