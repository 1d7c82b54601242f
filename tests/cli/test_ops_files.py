"""`mizzen ops logs | artifacts | sync`: what runs wrote, read back through the CLI."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import LogLine, RunRead
from mizzen.settings import Settings

Cli = Callable[..., CliResult]
MakeRun = Callable[..., RunRead]
CLOCK = r"\d\d:\d\d:\d\d"


# -- logs -----------------------------------------------------------------------------------------


def test_logs_print_every_container_with_timestamps(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(
        api_client,
        statuses=["running", "succeeded"],
        logs=["epoch 1 [loss=0.5]", ("sidecar", "uploading"), "done"],
    )
    result = cli("ops", "logs", run.uuid[:5])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(rf"{CLOCK} epoch 1 \[loss=0.5\]", lines[0])  # brackets are not markup
    assert re.fullmatch(rf"{CLOCK} sidecar \| uploading", lines[1])
    assert re.fullmatch(rf"{CLOCK} done", lines[2])
    as_json = cli("ops", "logs", run.uuid, "--json").json()
    assert [(line["container"], line["line"]) for line in as_json] == [
        ("main", "epoch 1 [loss=0.5]"),
        ("sidecar", "uploading"),
        ("main", "done"),
    ]


def test_logs_longer_than_one_page_are_read_whole(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, statuses=["running", "succeeded"])
    now = time.time()
    api_client.logs.append(run.uuid, [LogLine(timestamp=now, line=f"line {i}") for i in range(10_500)])
    lines = cli("ops", "logs", run.uuid, "--json").json()
    assert [line["line"] for line in lines] == [f"line {i}" for i in range(10_500)]


def test_logs_follow_prints_lines_as_they_come_until_the_run_ends(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, statuses=["running"], logs=["before"])

    def training() -> None:
        time.sleep(0.5)  # the CLI is following by now (or reads these from the store: same output)
        for step in range(3):
            api_client.logs.append(run.uuid, [LogLine(timestamp=time.time(), line=f"step {step}")])
        api_client.statuses.set(run.uuid, "succeeded")

    writer = threading.Thread(target=training)
    writer.start()
    result = cli("ops", "logs", run.uuid, "--follow", "--json")
    writer.join()
    assert result.exit_code == 0, result.stderr
    followed = [json.loads(line)["line"] for line in result.stdout.splitlines()]
    assert followed == ["before", "step 0", "step 1", "step 2"]


def test_logs_of_an_unknown_run(cli: Cli, api_client: MizzenClient) -> None:
    result = cli("ops", "logs", "abcdef12")
    assert (result.exit_code, result.stderr) == (1, "error: run 'abcdef12' not found\n")


# -- artifacts ------------------------------------------------------------------------------------


def test_artifacts_list_filter_and_download(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, tmp_path: Path
) -> None:
    files = {"outputs/model.bin": b"\x00" * 3000, "outputs/metrics.json": b'{"acc": 1}', "notes.txt": b"hi"}
    run = make_run(api_client, statuses=["running", "succeeded"], artifacts=files)
    listed = cli("ops", "artifacts", run.uuid, "--json").json()
    assert {a["path"]: a["size"] for a in listed} == {path: len(data) for path, data in files.items()}
    table = cli("ops", "artifacts", run.uuid).stdout.splitlines()
    assert table[0].split() == ["path", "size", "modified"]
    rows = {row.split()[0]: row.split()[1:3] for row in table[1:]}
    assert rows["outputs/model.bin"] == ["2.9", "KiB"] and rows["notes.txt"] == ["2", "B"]
    target = tmp_path / "results"
    downloaded = cli("ops", "artifacts", run.uuid, "--prefix", "outputs", "--download", str(target))
    assert downloaded.exit_code == 0, downloaded.stderr
    assert downloaded.stdout.strip() == f"Downloaded 2 files under 'outputs' (2.9 KiB) to {target}"
    assert (target / "outputs" / "model.bin").read_bytes() == files["outputs/model.bin"]
    assert (target / "outputs" / "metrics.json").read_bytes() == files["outputs/metrics.json"]
    assert not (target / "notes.txt").exists()
    nothing = cli("ops", "artifacts", run.uuid, "--prefix", "plots")
    assert nothing.stdout.strip() == f"Run {run.uuid} has no artifacts under 'plots'."


def test_artifacts_download_json_names_the_local_files(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, tmp_path: Path
) -> None:
    run = make_run(api_client, artifacts={"a/b.txt": b"b"})
    records = cli("ops", "artifacts", run.uuid, "-d", str(tmp_path / "out"), "--json").json()
    assert records[0]["path"] == "a/b.txt"
    assert Path(records[0]["local_path"]).read_bytes() == b"b"


# -- sync -----------------------------------------------------------------------------------------


TRAINING = """
    from mizzen import tracking
    tracking.init(project="offline", name="on-a-plane")
    for step in range(50):
        tracking.log_metrics(step=step, loss=1.0 / (step + 1))
    tracking.log_outputs(best=0.02)
"""


def _train(code: str, env: dict[str, str], cwd: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_sync_uploads_an_offline_journal_once(cli: Cli, settings: Settings, tmp_path: Path) -> None:
    _train(TRAINING, {"MIZZEN_HOME": str(settings.home)}, tmp_path)  # no server: all journaled
    (run_dir,) = (settings.home / "tracking").iterdir()
    result = cli("ops", "sync", str(run_dir))
    assert result.exit_code == 0, result.stderr
    sent = r"Run ([0-9a-f]{32}): sent 50 metric points and \d+ other entries from 1 journal\(s\) in "
    match = re.fullmatch(sent + re.escape(str(run_dir)), result.stdout.strip())
    assert match is not None, result.stdout
    uuid = match.group(1)
    run = cli("ops", "get", uuid, "--json").json()
    assert (run["project"], run["name"], run["outputs"], run["status"]) == (
        "offline",
        "on-a-plane",
        {"best": 0.02},
        "succeeded",
    )
    assert [m["count"] for m in run["metrics"]] == [50]
    again = cli("ops", "sync", "--path", str(run_dir), "--json").json()
    assert (again["run"], again["metrics"], again["entries"]) == (uuid, 0, 0)


def test_sync_finds_a_managed_run_journal_by_uuid_prefix(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, settings: Settings, tmp_path: Path
) -> None:
    run = make_run(api_client, statuses=["running"])
    run_folder = settings.home / "artifacts" / run.uuid
    with socket.socket() as sock:  # a port nothing listens on: the API is "down" during training
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    env = {
        "MIZZEN_HOME": str(settings.home),
        "MIZZEN_HOST": down,
        "MIZZEN_TRACKING_EXIT_TIMEOUT": "1",
        "MIZZEN_IS_MANAGED": "true",
        "MIZZEN_RUN_UUID": run.uuid,
        "MIZZEN_RUN_ARTIFACTS_PATH": str(run_folder),
        "MIZZEN_RUN_OUTPUTS_PATH": str(run_folder / "outputs"),
    }
    _train(
        "from mizzen import tracking\nfor s in range(7): tracking.log_metric('acc', s / 10, step=s)",
        env,
        tmp_path,
    )
    assert api_client.metrics.summaries(run.uuid) == []
    result = cli("ops", "sync", run.uuid[:6], "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["run"], report["metrics"], report["folder"]) == (run.uuid, 7, str(run_folder))
    assert [(m.name, m.count, m.last) for m in api_client.metrics.summaries(run.uuid)] == [("acc", 7, 0.6)]


def test_sync_errors_are_clear(cli: Cli, api_client: MizzenClient, make_run: MakeRun, tmp_path: Path) -> None:
    run = make_run(api_client)
    no_journal = cli("ops", "sync", run.uuid)
    assert no_journal.exit_code == 1
    assert no_journal.stderr.startswith(f"error: run {run.uuid} left no tracking journal on this machine")
    both = cli("ops", "sync", run.uuid, "--path", str(tmp_path))
    assert (both.exit_code, both.stderr) == (1, "error: give either a run or --path, not both\n")
    not_a_journal = cli("ops", "sync", "--path", str(tmp_path))
    assert not_a_journal.exit_code == 1
    assert not_a_journal.stderr.startswith(f"error: no tracking journal found for '{tmp_path}'")
