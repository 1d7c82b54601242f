from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

Make = Callable[..., dict[str, Any]]


def _lines(*texts: str, container: str = "main") -> dict[str, Any]:
    return {
        "lines": [{"timestamp": 1000.0 + i, "container": container, "line": t} for i, t in enumerate(texts)]
    }


def test_append_and_read_with_offsets(api: httpx.Client, create_run: Make, settings: Any) -> None:
    from pathlib import Path

    uuid = create_run(api)["uuid"]
    assert api.post(f"/runs/{uuid}/logs", json=_lines("one", "two", "three")).json() == {"accepted": 3}
    assert api.post(f"/runs/{uuid}/logs", json=_lines("four", "five", container="sidecar")).json() == {
        "accepted": 2
    }

    chunk = api.get(f"/runs/{uuid}/logs").json()
    assert [line["line"] for line in chunk["lines"]] == ["one", "two", "three", "four", "five"]
    assert chunk["lines"][3]["container"] == "sidecar"
    assert (chunk["next_offset"], chunk["done"]) == (5, False)

    middle = api.get(f"/runs/{uuid}/logs", params={"offset": 2, "limit": 2}).json()
    assert [line["line"] for line in middle["lines"]] == ["three", "four"]
    assert middle["next_offset"] == 4

    stored = sorted(p.name for p in (Path(settings.resolved_artifacts_store) / uuid / "logs").iterdir())
    assert stored == ["000000000000-000000000003.ndjson", "000000000003-000000000005.ndjson"]
    # Logs are Mizzen's: they do not show up as artifacts and cannot be overwritten by an upload.
    assert api.get(f"/runs/{uuid}/artifacts").json() == []
    assert api.put(f"/runs/{uuid}/artifacts/logs/x.ndjson", content=b"x").status_code == 422


def test_read_says_done_once_the_run_is_done_and_all_is_read(
    api: httpx.Client, create_run: Make, move_run: Make
) -> None:
    uuid = create_run(api)["uuid"]
    api.post(f"/runs/{uuid}/logs", json=_lines("a", "b"))
    move_run(api, uuid, "running", "succeeded")
    assert api.get(f"/runs/{uuid}/logs", params={"limit": 1}).json()["done"] is False
    assert api.get(f"/runs/{uuid}/logs", params={"offset": 1}).json()["done"] is True


def test_stream_follows_live_lines_until_the_run_is_done(
    api: httpx.Client, api_server: str, create_run: Make, move_run: Make
) -> None:
    uuid = create_run(api)["uuid"]
    move_run(api, uuid, "running")
    api.post(f"/runs/{uuid}/logs", json=_lines("before"))
    received: list[str] = []
    first_line = threading.Event()

    def follow() -> None:
        with httpx.stream("GET", f"{api_server}/api/v1/runs/{uuid}/logs/stream", timeout=30) as response:
            assert response.status_code == 200
            for raw in response.iter_lines():
                if raw.strip():
                    received.append(json.loads(raw)["line"])
                    first_line.set()

    reader = threading.Thread(target=follow)
    reader.start()
    assert first_line.wait(10)
    api.post(f"/runs/{uuid}/logs", json=_lines("live 1", "live 2"))
    api.post(f"/runs/{uuid}/logs", json=_lines("live 3"))
    deadline = time.monotonic() + 10
    while len(received) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    move_run(api, uuid, "succeeded")
    reader.join(15)
    assert not reader.is_alive(), "the stream did not end when the run was done"
    assert received == ["before", "live 1", "live 2", "live 3"]


def test_stream_from_an_offset_of_a_finished_run(api: httpx.Client, create_run: Make, move_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    api.post(f"/runs/{uuid}/logs", json=_lines("a", "b", "c"))
    move_run(api, uuid, "running", "failed")
    answer = api.get(f"/runs/{uuid}/logs/stream", params={"offset": 1})
    assert [json.loads(raw)["line"] for raw in answer.text.splitlines()] == ["b", "c"]


def test_logs_of_an_unknown_run_are_404(api: httpx.Client) -> None:
    missing = "0123456789abcdef0123456789abcdef"
    assert api.post(f"/runs/{missing}/logs", json=_lines("x")).status_code == 404
    assert api.get(f"/runs/{missing}/logs").status_code == 404
    assert api.get(f"/runs/{missing}/logs/stream").status_code == 404


def test_a_finished_runs_chunks_are_merged_and_read_the_same(
    api_app: Any, api: httpx.Client, create_run: Make, move_run: Make, settings: Any
) -> None:
    from pathlib import Path

    uuid = create_run(api)["uuid"]
    move_run(api, uuid, "running")
    for batch in range(6):
        api.post(f"/runs/{uuid}/logs", json=_lines(*(f"{batch}-{i}" for i in range(3))))
    folder = Path(settings.resolved_artifacts_store) / uuid / "logs"
    assert len(list(folder.iterdir())) == 6
    before = api.get(f"/runs/{uuid}/logs").json()["lines"]

    api_app.state.services.logs.compact(uuid)  # what finishing the run starts in the background
    assert [p.name for p in folder.iterdir()] == ["000000000000-000000000018.ndjson"]
    assert api.get(f"/runs/{uuid}/logs").json()["lines"] == before
    assert [line["line"] for line in api.get(f"/runs/{uuid}/logs", params={"offset": 7}).json()["lines"]][
        :2
    ] == [
        "2-1",
        "2-2",
    ]

    api.post(f"/runs/{uuid}/logs", json=_lines("late"))
    move_run(api, uuid, "succeeded")  # compacts again, in the background
    deadline = time.monotonic() + 20
    while len(list(folder.iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p.name for p in folder.iterdir()] == ["000000000000-000000000019.ndjson"]
    assert [line["line"] for line in api.get(f"/runs/{uuid}/logs").json()["lines"]][-2:] == ["5-2", "late"]
