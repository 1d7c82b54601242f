from __future__ import annotations

import base64
import hashlib
import io
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mizzen.artifacts.paths import safe_path
from mizzen.artifacts.store import ArtifactsStore
from mizzen.errors import InvalidInput

Make = Callable[..., dict[str, Any]]


def test_upload_list_and_download(api: httpx.Client, create_run: Make, settings: Any) -> None:
    uuid = create_run(api)["uuid"]
    payload = bytes(range(256)) * 5000  # 1.28 MB, more than one read chunk
    answer = api.put(f"/runs/{uuid}/artifacts/outputs/model.bin", content=payload)
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == "outputs/model.bin"
    assert answer.json()["size"] == len(payload)
    api.put(f"/runs/{uuid}/artifacts/report.html", content=b"<p>hi</p>")

    listed = api.get(f"/runs/{uuid}/artifacts").json()
    assert [(a["path"], a["size"]) for a in listed] == [
        ("outputs/model.bin", len(payload)),
        ("report.html", 9),
    ]
    assert listed[0]["modified_at"] is not None
    assert [a["path"] for a in api.get(f"/runs/{uuid}/artifacts", params={"prefix": "outputs"}).json()] == [
        "outputs/model.bin"
    ]

    download = api.get(f"/runs/{uuid}/artifacts/outputs/model.bin")
    assert download.content == payload
    assert download.headers["content-length"] == str(len(payload))
    assert api.get(f"/runs/{uuid}/artifacts/report.html").headers["content-type"].startswith("text/html")
    on_disk = Path(settings.resolved_artifacts_store) / uuid / "outputs" / "model.bin"
    assert on_disk.read_bytes() == payload


def test_files_written_by_the_run_itself_are_listed(
    api: httpx.Client, create_run: Make, settings: Any
) -> None:
    uuid = create_run(api)["uuid"]
    folder = Path(settings.resolved_artifacts_store) / uuid / "outputs"
    folder.mkdir(parents=True)
    (folder / "written.txt").write_text("by the job")
    assert [a["path"] for a in api.get(f"/runs/{uuid}/artifacts").json()] == ["outputs/written.txt"]
    assert api.get(f"/runs/{uuid}/artifacts/outputs/written.txt").text == "by the job"


@pytest.mark.parametrize(
    "raw_path",
    ["..%2F..%2Fescape.txt", "a/..%2F..%2Fescape.txt", "%2Fetc%2Fpasswd", "a%5C..%5Cb", ".tracking/journal"],
)
def test_paths_outside_the_run_folder_are_refused(
    api_server: str, api: httpx.Client, create_run: Make, settings: Any, raw_path: str
) -> None:
    uuid = create_run(api)["uuid"]
    # Sent byte for byte: an HTTP client would normalise '..' away before it reached the server.
    url = httpx.URL(f"{api_server}/api/v1/runs/{uuid}/artifacts/{raw_path}")
    answer = _raw_request("PUT", url, b"evil")
    assert answer[0] == 422, answer
    assert b'"field":"path"' in answer[1]
    root = Path(settings.resolved_artifacts_store)
    assert not (root / "escape.txt").exists() and not (root.parent / "escape.txt").exists()
    assert _raw_request("GET", url, b"")[0] in (404, 422)


def _raw_request(method: str, url: httpx.URL, body: bytes) -> tuple[int, bytes]:
    with socket.create_connection((url.host, url.port or 80), timeout=10) as connection:
        target = url.raw_path.decode()
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        connection.sendall(head.encode() + body)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_a_body_that_does_not_match_its_checksum_is_not_stored(api: httpx.Client, create_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    good = base64.b64encode(hashlib.md5(b"hello", usedforsecurity=False).digest()).decode()
    assert (
        api.put(f"/runs/{uuid}/artifacts/a.txt", content=b"hello", headers={"Content-MD5": good}).status_code
        == 200
    )
    bad = api.put(f"/runs/{uuid}/artifacts/b.txt", content=b"hellO", headers={"Content-MD5": good})
    assert bad.status_code == 422
    assert bad.json()["field"] == "body"
    assert [a["path"] for a in api.get(f"/runs/{uuid}/artifacts").json()] == ["a.txt"]


def test_an_interrupted_write_leaves_no_file(tmp_path: Path) -> None:
    store = ArtifactsStore(str(tmp_path / "store"))

    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            self.calls += 1
            if self.calls > 3:
                raise ConnectionResetError("client went away")
            buffer[:4] = b"data"
            return 4

    with pytest.raises(ConnectionResetError):
        store.write_stream("run1", "model.bin", io.BufferedReader(Broken(), buffer_size=4))
    assert list((tmp_path / "store").rglob("*.*")) == []
    store.write_stream("run1", "model.bin", io.BytesIO(b"complete"))
    assert (tmp_path / "store" / "run1" / "model.bin").read_bytes() == b"complete"


def test_missing_artifacts_and_folders_are_404(api: httpx.Client, create_run: Make) -> None:
    uuid = create_run(api)["uuid"]
    api.put(f"/runs/{uuid}/artifacts/dir/file.txt", content=b"x")
    assert api.get(f"/runs/{uuid}/artifacts/nothing.txt").status_code == 404
    folder = api.get(f"/runs/{uuid}/artifacts/dir")
    assert folder.status_code == 404
    assert "is a folder" in folder.json()["message"]


def test_lineage_records(api: httpx.Client, create_run: Make) -> None:
    first = create_run(api, project="lin")["uuid"]
    second = create_run(api, project="lin")["uuid"]
    model = {
        "name": "model",
        "kind": "model",
        "path": "outputs/model.bin",
        "summary": {"framework": "sklearn"},
    }
    dataset = {"name": "digits", "kind": "dataframe", "is_input": True}
    answer = api.post(f"/runs/{first}/lineage", json=[model, dataset])
    assert answer.status_code == 200, answer.text
    assert {(r["name"], r["is_input"]) for r in answer.json()} == {("model", False), ("digits", True)}
    api.post(f"/runs/{first}/lineage", json=[{**model, "summary": {"framework": "sklearn", "v": 2}}])
    records = api.get(f"/runs/{first}/lineage").json()
    assert len(records) == 2
    assert next(r for r in records if r["name"] == "model")["summary"] == {"framework": "sklearn", "v": 2}
    api.post(f"/runs/{second}/lineage", json=[{**dataset}])
    assert [r["name"] for r in api.get(f"/runs/{second}/lineage").json()] == ["digits"]

    bad = api.post(f"/runs/{first}/lineage", json=[model, {**model, "path": "../x"}])
    assert (bad.status_code, bad.json()["field"]) == (422, "[1].path")
    unknown = api.post(f"/runs/{first}/lineage", json=[{"name": "x"}])
    assert (unknown.status_code, unknown.json()["field"]) == (422, "[0].kind")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a/b.txt", "a/b.txt"), ("./a//b.txt", "a/b.txt"), ("outputs/", "outputs")],
)
def test_safe_path_normalises(path: str, expected: str) -> None:
    assert safe_path(path) == expected


@pytest.mark.parametrize("path", ["", "/abs", "../x", "a/../../x", "a\\b", "a\x00b"])
def test_safe_path_refuses(path: str) -> None:
    with pytest.raises(InvalidInput) as error:
        safe_path(path)
    assert error.value.field == "path"
