"""A script calling ``tracking.init()`` against a real `mizzen server` (its scheduler running): the
run it creates is the script's alone, never claimed by an executor, and ends as the script did."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from mizzen_server import MizzenServer, wait_for
from tracking_helpers import script_env

from mizzen.client import MizzenClient
from mizzen.schemas.statuses import DONE_STATUSES

SCRIPT = """
    import sys
    from mizzen import tracking
    run = tracking.init(project="tracked", name="outside-mizzen-run")
    tracking.log_metric("loss", 0.5, step=1)
    print(run.uuid, flush=True)
    sys.stdin.readline()  # the test lets the script finish once a managed run has gone through
    if sys.argv[1] == "raise":
        raise RuntimeError("diverged")
"""

MANAGED_JOB = """
version: 1.1
kind: component
name: managed
run: {kind: job, container: {image: python:3.11, command: ["python", "-c", "print('managed ok')"]}}
"""


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[MizzenServer]:
    server = MizzenServer(tmp_path / "server-home", database_url=db_url)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(("ending", "status"), [("return", "succeeded"), ("raise", "failed")])
def test_a_tracked_script_is_never_claimed_and_ends_as_the_script_did(
    server: MizzenServer, tmp_path: Path, ending: str, status: str
) -> None:
    env = script_env(MIZZEN_HOME=str(tmp_path / "client-home"), MIZZEN_HOST=server.url)
    script = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), ending],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert script.stdout is not None and script.stdin is not None
    uuid = script.stdout.readline().strip()
    assert uuid, script.communicate(timeout=60)[1]

    # A managed run created after the tracked one goes through the same scheduler: claims take the
    # oldest waiting run first, so once this one is done the tracked run has been passed over.
    (tmp_path / "managed.yaml").write_text(MANAGED_JOB)
    mizzen = Path(sys.executable).parent / "mizzen"
    managed = subprocess.run(
        [str(mizzen), "run", "-f", "managed.yaml", "-p", "tracked"],
        env={**env, "COLUMNS": "200"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert managed.returncode == 0, managed.stdout + managed.stderr + server.output()

    _, stderr = script.communicate("\n", timeout=120)
    assert script.returncode == (0 if ending == "return" else 1), stderr

    with MizzenClient(server.url) as client:
        run = wait_for(
            lambda: (found := client.runs.get(uuid)).status in DONE_STATUSES and found,
            120,
            lambda: f"run {uuid} did not finish: {client.runs.get(uuid).status}\n{server.output()}",
        )
        assert run.status.value == status, run.conditions
        assert run.managed is False
        seen = [condition.type.value for condition in run.conditions or []]
        assert "compiled" not in seen and "queued" not in seen, seen
        if ending == "raise":
            assert (run.conditions or [])[-1].message == "RuntimeError: diverged"
        assert [m.name for m in run.metrics or []] == ["loss"]
