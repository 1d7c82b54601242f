"""A run plants symbolic links in its own artifacts folder, then reads, lists, downloads, overwrites
and copies through the API (a real server, a real SQLite file): every attempt is refused with a 4xx
and nothing outside the attacked run changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mizzen.settings import Settings

Make = Callable[..., dict[str, Any]]


JOB = {"kind": "operation", "component": {"run": {"kind": "job", "container": {"image": "x"}}}}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def planted(api: httpx.Client, settings: Settings, create_run: Make, tmp_path: Path) -> dict[str, Any]:
    """An attacker run whose folder holds links to a file outside the store, to the database, to
    /etc/passwd and to another run's folder; the victim run holds one file."""
    store = Path(settings.resolved_artifacts_store)
    victim = create_run(api)["uuid"]
    assert api.put(f"/runs/{victim}/artifacts/secret.txt", content=b"victim's data").status_code == 200
    attacker = create_run(api, spec=JOB)["uuid"]  # a polyaxonfile: it can be copied
    assert api.put(f"/runs/{attacker}/artifacts/own.txt", content=b"mine").status_code == 200
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not the run's")
    folder = store / attacker
    links = {
        "outside.txt": outside,
        "db.sqlite": settings.home / "mizzen.db",
        "passwd": Path("/etc/passwd"),
        "victim": store / victim,
        "victim-file": store / victim / "secret.txt",
    }
    for name, target in links.items():
        (folder / name).symlink_to(target)
    (folder / "nested").mkdir()
    (folder / "nested" / "up").symlink_to(store)
    watched = [outside, settings.home / "mizzen.db", store / victim / "secret.txt"]
    return {
        "attacker": attacker,
        "victim": victim,
        "watched": watched,
        "before": {path: _digest(path) for path in watched},
    }


def _unchanged(planted: dict[str, Any]) -> None:
    assert {path: _digest(path) for path in planted["watched"]} == planted["before"]


@pytest.mark.parametrize(
    "path",
    ["outside.txt", "db.sqlite", "passwd", "victim/secret.txt", "victim-file", "nested/up/x.txt"],
)
def test_reads_through_a_link_are_refused(api: httpx.Client, planted: dict[str, Any], path: str) -> None:
    answer = api.get(f"/runs/{planted['attacker']}/artifacts/{path}")
    assert answer.status_code == 403, answer.text
    assert "symbolic link" in answer.json()["message"]
    _unchanged(planted)


@pytest.mark.parametrize(
    "path", ["outside.txt", "db.sqlite", "victim/secret.txt", "victim-file", "nested/up/new.txt"]
)
def test_writes_through_a_link_are_refused(api: httpx.Client, planted: dict[str, Any], path: str) -> None:
    answer = api.put(f"/runs/{planted['attacker']}/artifacts/{path}", content=b"overwritten")
    assert answer.status_code == 403, answer.text
    _unchanged(planted)
    assert api.get("/runs").status_code == 200  # the database is still the database


def test_listing_leaves_links_out(api: httpx.Client, planted: dict[str, Any]) -> None:
    answer = api.get(f"/runs/{planted['attacker']}/artifacts")
    assert answer.status_code == 200, answer.text
    assert [item["path"] for item in answer.json()] == ["own.txt"]
    for prefix in ("victim", "nested/up"):
        refused = api.get(f"/runs/{planted['attacker']}/artifacts", params={"prefix": prefix})
        assert refused.status_code == 403, refused.text


def test_copy_and_delete_leave_what_links_point_to(api: httpx.Client, planted: dict[str, Any]) -> None:
    copy = api.post(f"/runs/{planted['attacker']}/copy")
    assert copy.status_code == 200, copy.text
    copied = api.get(f"/runs/{copy.json()['uuid']}/artifacts").json()
    assert [item["path"] for item in copied] == ["own.txt"]
    assert api.delete(f"/runs/{planted['attacker']}").status_code == 204
    _unchanged(planted)
    assert api.get(f"/runs/{planted['victim']}/artifacts/secret.txt").content == b"victim's data"


def test_a_run_folder_that_is_a_link_is_refused(
    api: httpx.Client, settings: Settings, create_run: Make, tmp_path: Path
) -> None:
    store = Path(settings.resolved_artifacts_store)
    uuid = create_run(api)["uuid"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "file.txt").write_bytes(b"elsewhere")
    store.mkdir(parents=True, exist_ok=True)
    (store / uuid).symlink_to(elsewhere)
    assert api.get(f"/runs/{uuid}/artifacts/file.txt").status_code == 403
    assert api.put(f"/runs/{uuid}/artifacts/file.txt", content=b"x").status_code == 403
    assert api.get(f"/runs/{uuid}/artifacts").status_code == 403
    assert api.delete(f"/runs/{uuid}").status_code == 204
    assert (elsewhere / "file.txt").read_bytes() == b"elsewhere"
