"""The real `mizzen` script in its own process: embedded mode over a store another process writes,
a remote server, an unreachable one, answering a confirmation on a terminal, and a light `--help`."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mizzen.client import ApiNotFound, MizzenClient
from mizzen.schemas.api import RunRead

RunMizzen = Callable[..., subprocess.CompletedProcess[str]]
MakeRun = Callable[..., RunRead]


def test_embedded_commands_read_what_another_process_wrote(
    run_mizzen: RunMizzen, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(
        api_client,
        project="e2e",
        name="trained",
        statuses=["running", "succeeded"],
        metrics={"loss": [0.5, 0.25]},
        logs=["epoch 1", "epoch 2"],
    )
    listed = run_mizzen("ops", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["uuid"], r["status"]) for r in json.loads(listed.stdout)] == [(run.uuid, "succeeded")]
    table = run_mizzen("ops", "ls")
    assert table.stdout.splitlines()[1].split()[:5] == [run.uuid[:12], "trained", "e2e", "job", "succeeded"]
    logs = run_mizzen("ops", "logs")
    assert logs.returncode == 0, logs.stderr
    assert [line.split(" ", 1)[1] for line in logs.stdout.splitlines()] == ["epoch 1", "epoch 2"]
    assert f"Using the latest run: {run.uuid}" in logs.stderr


def test_remote_mode_and_unreachable_server(
    run_mizzen: RunMizzen, api_server: str, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, name="remote", params={"lr": 0.1})
    got = run_mizzen("ops", "get", run.uuid[:7], "--json", env={"MIZZEN_HOST": api_server})
    assert got.returncode == 0, got.stderr
    assert '"params": {\n    "lr": 0.1\n  }' in got.stdout
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = run_mizzen("ops", "ls", env={"MIZZEN_HOST": f"http://127.0.0.1:{port}"})
    assert down.returncode == 1
    assert (
        down.stderr == f"error: cannot reach the Mizzen API at http://127.0.0.1:{port}: connection refused\n"
    )
    assert down.stdout == ""


def _on_a_terminal(mizzen_bin: Path, args: list[str], answer: bytes) -> subprocess.CompletedProcess[str]:
    """Runs the command with a pseudo-terminal as stdin and types ``answer``."""
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(mizzen_bin), *args],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        os.close(secondary)
        os.write(primary, answer)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(primary)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_delete_asks_on_a_terminal(mizzen_bin: Path, api_client: MizzenClient, make_run: MakeRun) -> None:
    run = make_run(api_client, name="keep-me", statuses=["running", "succeeded"])
    declined = _on_a_terminal(mizzen_bin, ["ops", "delete", run.uuid[:8]], b"n\n")
    assert declined.returncode == 1
    assert f"Delete run {run.uuid} (keep-me, default, job, succeeded)" in declined.stdout
    assert declined.stderr == "Cancelled: nothing was done.\n"
    assert api_client.runs.get(run.uuid).name == "keep-me"
    accepted = _on_a_terminal(mizzen_bin, ["ops", "delete", run.uuid[:8]], b"y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.endswith(f"[y/N]: Deleted run {run.uuid}.\n")  # the typed "y" echoes on the tty
    with pytest.raises(ApiNotFound):
        api_client.runs.get(run.uuid)


def test_help_lists_the_groups_and_loads_nothing_heavy(run_mizzen: RunMizzen) -> None:
    shown = run_mizzen("--help")
    assert shown.returncode == 0
    for group in ("ops", "project", "config"):
        assert f" {group} " in shown.stdout
    ops_help = run_mizzen("ops", "ls", "--help")
    assert "Example: mizzen ops ls" in ops_help.stdout
    probe = (
        "import sys; import mizzen.cli.main as m; m._register(); "
        "print(sorted(n for n in ('rich', 'pydantic', 'httpx', 'sqlalchemy', 'fastapi', 'uvicorn', 'yaml') "
        "if n in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
