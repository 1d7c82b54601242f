from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import RunList, RunRead

Make = Callable[..., dict[str, Any]]


def test_create_get_and_list_runs_on_each_database(api_on_each_db: httpx.Client, create_run: Make) -> None:
    api = api_on_each_db
    created = create_run(
        api,
        project="vision",
        name="resnet",
        kind="job",
        params={"lr": 0.1},
        tags=["a"],
        content="kind: component",
    )
    RunRead.model_validate(created)
    assert created["token"]  # only in the creating answer
    assert created["conditions"][0]["type"] == "created"

    fetched = api.get(f"/runs/{created['uuid']}").json()
    assert fetched["token"] is None
    assert (fetched["project"], fetched["name"], fetched["content"]) == (
        "vision",
        "resnet",
        "kind: component",
    )
    assert api.get("/projects/vision").json()["runs_count"] == 1

    listing = RunList.model_validate(api.get("/runs", params={"project": "vision"}).json())
    assert [r.uuid for r in listing.items] == [created["uuid"]]
    assert listing.items[0].spec is None and listing.items[0].conditions is None


def test_list_filters_sorts_and_paginates(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    uuids = []
    for index, loss in enumerate([0.9, 0.3, 0.5, 0.1]):
        run = create_run(api, project="p", name=f"r{index}", params={"lr": 0.01 * (index + 1)})
        api.post(
            f"/runs/{run['uuid']}/metrics",
            json={"points": [{"name": "loss", "value": loss, "timestamp": 1.0}]},
        )
        uuids.append(run["uuid"])
    move_run(api, uuids[1], "running")
    move_run(api, uuids[3], "running", "failed")

    def names(**params: Any) -> list[str]:
        answer = api.get("/runs", params=params)
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json()["items"]]

    assert names(query="metrics.loss:<0.6", sort="metrics.loss") == ["r3", "r1", "r2"]
    assert names(query="status:running|failed", sort="-metrics.loss") == ["r1", "r3"]
    assert names(query="params.lr:>0.025", sort="name") == ["r2", "r3"]
    page = api.get("/runs", params={"sort": "name", "limit": 2, "offset": 2}).json()
    assert ([i["name"] for i in page["items"]], page["count"], page["limit"], page["offset"]) == (
        ["r2", "r3"],
        4,
        2,
        2,
    )


def test_update_merges_inputs_outputs_meta(api: httpx.Client, create_run: Make) -> None:
    run = create_run(api, outputs={"a": 1}, meta={"x": 1})
    answer = api.patch(
        f"/runs/{run['uuid']}", json={"outputs": {"b": 2}, "meta": {"y": 2}, "tags": ["t"], "name": "n"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["outputs"], body["meta"], body["tags"], body["name"]) == (
        {"a": 1, "b": 2},
        {"x": 1, "y": 2},
        ["t"],
        "n",
    )


def test_statuses_follow_the_status_machine(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    run = create_run(api)
    body = move_run(api, run["uuid"], "queued", "running", "succeeded")
    assert body["status"] == "succeeded"
    assert body["started_at"] is not None and body["finished_at"] is not None
    assert body["duration"] is not None

    refused = api.post(f"/runs/{run['uuid']}/statuses", json={"status": "running"})
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "invalid_transition",
        "message": "a run cannot go from 'succeeded' to 'running'",
        "field": "status",
    }
    history = api.get(f"/runs/{run['uuid']}/statuses").json()
    assert [c["type"] for c in history] == ["created", "queued", "running", "succeeded"]
    assert api.get(f"/runs/{run['uuid']}").json()["status"] == "succeeded"


def test_stop_before_start_stops_at_once(api: httpx.Client, create_run: Make) -> None:
    run = create_run(api, status="queued")
    body = api.post(f"/runs/{run['uuid']}/stop").json()
    assert body["status"] == "stopped"
    assert body["conditions"][-1]["reason"] == "StoppedBeforeStart"


def test_stop_of_a_running_run_asks_its_executor(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    run = create_run(api)
    move_run(api, run["uuid"], "running")
    body = api.post(f"/runs/{run['uuid']}/stop").json()
    assert body["status"] == "stopping"
    assert body["conditions"][-1]["reason"] == "StopRequested"
    assert api.post(f"/runs/{run['uuid']}/stop").json()["status"] == "stopping"  # idempotent
    assert move_run(api, run["uuid"], "stopped")["status"] == "stopped"
    assert api.post(f"/runs/{run['uuid']}/stop").json()["status"] == "stopped"


def test_restart_and_copy_make_new_runs_from_the_stored_spec(
    api: httpx.Client, create_run: Make, move_run: Make, settings: Any
) -> None:
    spec = {
        "kind": "operation",
        "component": {
            "inputs": [{"name": "lr", "type": "float"}, {"name": "epochs", "type": "int"}],
            "run": {"kind": "job", "container": {"image": "x"}},
        },
    }
    original = create_run(
        api, name="base", content="kind: operation", spec=spec, plan={"x": 1}, params={"lr": 0.1, "epochs": 3}
    )
    move_run(api, original["uuid"], "running", "failed")
    api.put(f"/runs/{original['uuid']}/artifacts/outputs/model.bin", content=b"weights")
    api.post(f"/runs/{original['uuid']}/logs", json={"lines": [{"timestamp": 1.0, "line": "hello"}]})

    restarted = api.post(f"/runs/{original['uuid']}/restart", json={"params": {"lr": 0.2}}).json()
    assert restarted["uuid"] != original["uuid"]
    assert (restarted["original_uuid"], restarted["cloning_kind"]) == (original["uuid"], "restart")
    assert restarted["params"] == {"lr": 0.2, "epochs": 3}
    assert restarted["inputs"] == {"lr": 0.2, "epochs": 3}
    assert (restarted["content"], restarted["spec"], restarted["plan"]) == ("kind: operation", spec, None)
    assert restarted["status"] == "created" and restarted["token"]
    assert api.get(f"/runs/{restarted['uuid']}/artifacts").json() == []

    copied = api.post(f"/runs/{original['uuid']}/copy", json={"name": "copied"}).json()
    assert (copied["cloning_kind"], copied["name"]) == ("copy", "copied")
    files = [a["path"] for a in api.get(f"/runs/{copied['uuid']}/artifacts").json()]
    assert files == ["outputs/model.bin"]  # its artifacts, not its logs
    assert api.get(f"/runs/{copied['uuid']}/logs").json()["lines"] == []


def test_resume_reuses_the_run(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    run = create_run(api, params={"lr": 0.1}, plan={"compiled": True})
    refused = api.post(f"/runs/{run['uuid']}/resume")
    assert refused.status_code == 409  # not done yet

    move_run(api, run["uuid"], "running", "stopping", "stopped")
    resumed = api.post(f"/runs/{run['uuid']}/resume", json={"params": {"lr": 0.05}}).json()
    assert resumed["uuid"] == run["uuid"]
    assert resumed["status"] == "queued"
    assert resumed["params"] == {"lr": 0.05}
    assert resumed["plan"] is None  # new params: compiled again
    assert resumed["token"] and resumed["token"] != run["token"]
    assert (resumed["started_at"], resumed["finished_at"]) == (None, None)


def test_delete_run_and_its_artifacts(api: httpx.Client, create_run: Make, settings: Any) -> None:
    from pathlib import Path

    run = create_run(api)
    api.put(f"/runs/{run['uuid']}/artifacts/a.txt", content=b"x")
    folder = Path(settings.resolved_artifacts_store) / run["uuid"]
    assert folder.is_dir()
    assert api.delete(f"/runs/{run['uuid']}").status_code == 204
    assert api.get(f"/runs/{run['uuid']}").status_code == 404
    assert not folder.exists()


def test_idempotent_create_returns_the_same_run(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "init-123"}
    first = api.post("/runs", json={"project": "p"}, headers=headers).json()
    again = api.post("/runs", json={"project": "p"}, headers=headers).json()
    assert again["uuid"] == first["uuid"]
    assert again["token"] and again["token"] != first["token"]
    assert api.get("/runs").json()["count"] == 1


def test_a_client_may_name_the_uuid_and_the_times_of_what_happened(
    api_on_each_db: httpx.Client, create_run: Make
) -> None:
    api = api_on_each_db
    uuid = "0123456789abcdef0123456789abcdef"
    when = "2026-01-02T03:04:05.123456Z"
    run = create_run(api, project="synced", uuid=uuid, created_at=when, managed=False)
    assert (run["uuid"], run["created_at"], run["conditions"][0]["time"]) == (uuid, when, when)

    taken = api.post("/runs", json={"project": "synced", "uuid": uuid})
    assert (taken.status_code, taken.json()["error"]) == (409, "conflict")
    assert f"uuid {uuid} already exists" in taken.json()["message"]
    for body, field in (
        ({"uuid": "../../etc"}, "uuid"),
        ({"created_at": "2999-01-01T00:00:00Z"}, "created_at"),
        ({"created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),
    ):
        refused = api.post("/runs", json={"project": "synced", **body})
        assert (refused.status_code, refused.json()["field"]) == (422, field), refused.text

    started = api.post(f"/runs/{uuid}/statuses", json={"status": "running", "time": "2026-01-02T03:05:00Z"})
    assert started.json()["started_at"] == "2026-01-02T03:05:00Z"
    # A clock that went back: the history stays in order (never before the previous condition).
    ended = api.post(f"/runs/{uuid}/statuses", json={"status": "succeeded", "time": "2026-01-01T00:00:00Z"})
    assert (ended.json()["finished_at"], ended.json()["duration"]) == ("2026-01-02T03:05:00Z", 0.0)
    future = api.post(f"/runs/{uuid}/statuses", json={"status": "failed", "time": "2999-01-01T00:00:00Z"})
    assert (future.status_code, future.json()["field"]) == (422, "time")
    assert api.get("/runs", params={"project": "synced"}).json()["count"] == 1


def test_run_lifecycle_on_each_database(
    api_on_each_db: httpx.Client, create_run: Make, move_run: Make
) -> None:
    api = api_on_each_db
    spec = {
        "version": 1.1,
        "kind": "component",
        "inputs": [{"name": "lr", "type": "float"}],
        "run": {"kind": "job", "container": {"image": "python", "command": ["python", "train.py"]}},
    }
    run = create_run(api, params={"lr": 0.1}, spec=spec)
    uuid = run["uuid"]
    assert api.patch(f"/runs/{uuid}", json={"outputs": {"acc": 0.5}}).json()["outputs"] == {"acc": 0.5}
    move_run(api, uuid, "queued", "scheduled", "starting", "running")
    assert api.post(f"/runs/{uuid}/stop").json()["status"] == "stopping"
    assert move_run(api, uuid, "stopped")["duration"] is not None
    resumed = api.post(f"/runs/{uuid}/resume").json()
    assert (resumed["uuid"], resumed["status"]) == (uuid, "queued")
    restarted = api.post(f"/runs/{uuid}/restart", json={"params": {"lr": 0.2}}).json()
    assert (restarted["original_uuid"], restarted["params"]) == (uuid, {"lr": 0.2})
    assert restarted["inputs"] == {"lr": 0.2}
    refused = api.post(f"/runs/{uuid}/restart", json={"params": {"lr": "fast"}})
    assert refused.status_code == 422 and "-P lr=fast: expected a float" in refused.text
    conflict = api.post(f"/runs/{uuid}/statuses", json={"status": "succeeded"})
    assert conflict.status_code == 409
    assert api.delete(f"/runs/{uuid}").status_code == 204
    assert api.get("/runs").json()["count"] == 1


def test_an_upload_outlives_its_run_while_a_restart_or_copy_runs_it(
    api_on_each_db: httpx.Client, create_run: Make, settings: Any
) -> None:
    from pathlib import Path

    api = api_on_each_db
    store = Path(settings.resolved_artifacts_store)
    original = create_run(api, meta={"upload": "done"})
    uuid = original["uuid"]
    assert api.put(f"/runs/{uuid}/artifacts/uploads/train.py", content=b"print(1)").status_code < 300
    assert api.put(f"/runs/{uuid}/artifacts/outputs/model.bin", content=b"m").status_code < 300
    restart = api.post(f"/runs/{uuid}/restart").json()
    copy = api.post(f"/runs/{uuid}/copy").json()
    for clone in (restart, copy):
        assert clone["meta"] == {"upload": "done", "code_run": uuid}
    assert (store / copy["uuid"] / "outputs" / "model.bin").is_file()
    assert not (store / copy["uuid"] / "uploads").exists()  # the copy runs the same stored upload

    assert api.delete(f"/runs/{uuid}").status_code == 204
    assert (store / uuid / "uploads" / "train.py").is_file()  # still run by the restart and the copy
    assert not (store / uuid / "outputs" / "model.bin").exists()
    assert api.delete(f"/runs/{restart['uuid']}").status_code == 204
    assert (store / uuid / "uploads" / "train.py").is_file()  # the copy still runs it
    assert api.delete(f"/runs/{copy['uuid']}").status_code == 204
    assert not (store / uuid).exists()  # the last run using it is gone: so is the upload


@pytest.mark.parametrize("how", ["restart", "copy", "resume"])
def test_a_tracked_run_is_never_cloned_into_a_run_nothing_would_run(
    api: httpx.Client, create_run: Make, move_run: Make, how: str
) -> None:
    tracked = create_run(api, name="notebook", managed=False)
    move_run(api, tracked["uuid"], "running", "succeeded")
    refused = api.post(f"/runs/{tracked['uuid']}/{how}")
    assert refused.status_code == 409, refused.text
    assert "tracking.init()" in refused.json()["message"]
    assert [r["uuid"] for r in api.get("/runs").json()["items"]] == [tracked["uuid"]]
    assert api.get(f"/runs/{tracked['uuid']}").json()["status"] == "succeeded"
