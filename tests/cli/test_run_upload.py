"""`mizzen run -u`: what is uploaded (`.gitignore` and `.mizzenignore` honoured) and what happens when
it cannot be: no run made, or a run marked failed with the reason, never one left in `created`.
Real CLI processes, the real API and store."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from test_run import home, mizzen, ops_get, write

from mizzen.client import MizzenClient

__all__ = ["home"]

JOB = """
version: 1.1
kind: component
name: code
run: {kind: job, container: {image: x, command: ["python", "train.py"]}}
"""


def _runs() -> list[dict]:
    result = mizzen("ops", "ls", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _code_folder(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    write(code, "polyaxonfile.yaml", JOB)
    write(code, "train.py", "import os; print(sorted(os.listdir('.')), sorted(os.listdir('pkg')))\n")
    return code


def test_gitignore_and_mizzenignore_are_honoured_and_the_code_is_stored_once(
    home: Path, tmp_path: Path
) -> None:
    code = _code_folder(tmp_path)
    write(code, ".gitignore", "data/\n*.log\n!keep.log\n")
    write(code, ".mizzenignore", "secret.txt\n")
    write(code, "secret.txt", "no\n")
    write(code, "run.log", "no\n")
    write(code, "keep.log", "yes\n")
    (code / "data").mkdir()
    write(code / "data", "big.csv", "no\n")
    write(code / "pkg", ".gitignore", "scratch.py\n")
    write(code / "pkg", "scratch.py", "no\n")
    write(code / "pkg", "model.py", "yes\n")
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "['.gitignore', '.mizzenignore', 'keep.log', 'pkg', 'polyaxonfile.yaml', 'train.py']" in result.stdout
    )
    assert "['.gitignore', 'model.py']" in result.stdout
    run = ops_get(_runs()[0]["uuid"])
    assert run["meta"]["upload"] == "done"
    assert run["meta"]["uploader"].startswith(f"{socket.gethostname()}:")  # who uploaded it
    listed = json.loads(mizzen("ops", "artifacts", run["uuid"], "--json").stdout)
    uploaded = sorted(item["path"] for item in listed if item["path"].startswith("uploads/"))
    assert uploaded == [
        "uploads/.gitignore", "uploads/.mizzenignore", "uploads/keep.log", "uploads/pkg/.gitignore",
        "uploads/pkg/model.py", "uploads/polyaxonfile.yaml", "uploads/train.py",
    ]  # fmt: skip
    # Stored once in the run's artifacts: nothing of the code under any other folder there.
    assert not [
        item for item in listed if item["path"].endswith("train.py") and item["path"] != "uploads/train.py"
    ]


def test_links_to_outside_the_folder_or_to_folders_are_not_uploaded_and_said(
    home: Path, tmp_path: Path
) -> None:
    code = _code_folder(tmp_path)
    secret = tmp_path / "credentials"
    secret.write_text("token=s3cr3t\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "big.csv").write_text("1,2\n")
    (code / "config.py").write_text("x = 1\n")
    (code / "pkg" / "mod.py").write_text("y = 2\n")
    (code / "settings.py").symlink_to("config.py")  # inside the folder: uploaded as that file
    (code / "creds").symlink_to(secret)  # outside: never uploaded
    (code / "data").symlink_to(data)  # a folder: not uploaded either
    (code / "pkg" / "up").symlink_to("..")  # a loop back into the folder: not walked
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not uploaded: creds, data, pkg/up (links to a folder or to outside" in result.stderr
    listed = {item["path"] for item in json.loads(mizzen("ops", "artifacts", "--json").stdout)}
    assert {"uploads/settings.py", "uploads/config.py", "uploads/train.py"} <= listed
    assert not [path for path in listed if "creds" in path or "data/" in path or "/up/" in path]
    stored = home / "artifacts"
    assert not [f for f in stored.rglob("*") if f.is_file() and b"s3cr3t" in f.read_bytes()]


def test_a_folder_too_large_to_upload_makes_no_run(home: Path, tmp_path: Path) -> None:
    code = _code_folder(tmp_path)
    with (code / "weights.bin").open("wb") as out:  # sparse: 201 MB on paper, nothing on disk
        out.truncate(201 * 1024 * 1024)
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 1
    assert "holds 201 MiB to upload (limit 200 MiB)" in result.stderr and ".mizzenignore" in result.stderr
    assert _runs() == []


def test_an_upload_the_server_refuses_fails_the_run_with_the_reason(home: Path, tmp_path: Path) -> None:
    code = _code_folder(tmp_path)
    write(code, "odd\\name.py", "x = 1\n")  # a legal file name that no artifacts store accepts
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 1
    assert "its code could not be uploaded" in result.stderr and "backslash" in result.stderr
    [listed] = _runs()
    run = ops_get(listed["uuid"])
    assert run["status"] == "failed"
    last = run["conditions"][-1]
    assert last["reason"] == "UploadFailed" and "backslash" in last["message"]


def test_a_run_whose_uploader_died_is_failed_by_the_next_mizzen_run(
    api_client: MizzenClient, tmp_path: Path
) -> None:
    # What a `mizzen run -u` killed (kill -9) while uploading leaves: a created run waiting for code.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    uploader = f"{socket.gethostname()}:{int(gone.stdout)}:upload"
    stuck = api_client.runs.create(
        project="default", name="stuck", kind="job", meta={"upload": "pending", "uploader": uploader}
    )
    quick = write(
        tmp_path,
        "quick.yaml",
        'version: 1.1\nkind: component\nrun: {kind: job, container: {command: ["true"]}}\n',
    )
    result = mizzen("run", "-f", str(quick))
    assert result.returncode == 0, result.stdout + result.stderr
    run = api_client.runs.get(stuck.uuid)
    assert run.status.value == "failed"
    last = (run.conditions or [])[-1]
    assert last.reason == "UploadFailed" and "exited before the upload finished" in (last.message or "")


def test_a_failed_upload_marks_its_run_failed_once_a_restarting_server_answers(home: Path) -> None:
    """The server went away mid-upload: the run is marked failed as soon as it is back, not left
    waiting in `created` for code that will not come."""
    from tests.agent.support import RestartableApi

    from mizzen.cli.code_upload import _give_up, pending_upload_meta
    from mizzen.settings import Settings

    api = RestartableApi(Settings.load()).start()
    try:
        with MizzenClient(api.url) as client:
            run = client.runs.create(project="default", meta=pending_upload_meta())
            api.stop()  # down, as in a restart
            waits: list[float] = []

            def wait(seconds: float) -> None:  # the server comes back while the CLI waits
                waits.append(seconds)
                api.start()

            _give_up(client, run.uuid, "uploading failed: the server went away", wait=wait)
            assert waits == [0.5]  # asked once in vain, then again once it was back
            ended = client.runs.get(run.uuid)
            assert (ended.status, ended.conditions[-1].reason) == ("failed", "UploadFailed")
    finally:
        api.stop()
