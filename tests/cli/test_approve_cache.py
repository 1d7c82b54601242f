"""`mizzen ops approve` and the run cache as a user types them: real `mizzen` processes, a real
`mizzen server`, real jobs on the local executor, a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MIZZEN = str(Path(sys.executable).with_name("mizzen"))
DEADLINE = 120.0
DONE = ("succeeded", "failed", "stopped", "skipped", "upstream_failed")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    return home


@pytest.fixture
def server(home: Path) -> Iterator[None]:
    """A `mizzen server` of this home: the commands below use it (it announces itself)."""
    process = subprocess.Popen(
        [MIZZEN, "server", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while not (home / "server.json").is_file():
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=DEADLINE)


def mizzen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIZZEN, *args], check=False, capture_output=True, text=True, timeout=DEADLINE)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def get(uuid: str) -> dict:
    result = mizzen("ops", "get", uuid, "--json")
    assert result.returncode == 0, result.stderr
    found: dict = json.loads(result.stdout)
    return found


def children(uuid: str) -> list[dict]:
    result = mizzen("ops", "ls", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    return [r for r in json.loads(result.stdout) if r.get("pipeline_uuid") == uuid]


def detach(spec: Path) -> str:
    result = mizzen("run", "-f", str(spec), "--detach")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def wait_done(uuid: str) -> str:
    deadline = time.monotonic() + DEADLINE
    while (status := get(uuid)["status"]) not in DONE:
        assert time.monotonic() < deadline, f"run {uuid} is still {status}"
        time.sleep(0.2)
    return str(status)


HELD_JOB = """
    version: 1.1
    kind: operation
    name: held
    isApproved: false
    component:
      run: {kind: job, container: {image: x, command: [python, -c, "print('approved and ran')"]}}
"""
FREE_JOB = """
    version: 1.1
    kind: operation
    component:
      run: {kind: job, container: {image: x, command: ["true"]}}
"""
HELD_SWEEP = """
    version: 1.1
    kind: operation
    isApproved: false
    matrix:
      kind: grid
      params: {lr: {kind: choice, value: [0.1, 0.2]}}
    component:
      inputs: [{name: lr, type: float}]
      run: {kind: job, container: {image: x, command: [python, -c, "print({{ lr }})"]}}
"""


def test_a_held_run_and_a_held_sweep_wait_until_approved_then_run(
    home: Path, tmp_path: Path, server: None
) -> None:
    held = detach(write(tmp_path, "held.yaml", HELD_JOB))
    sweep = detach(write(tmp_path, "sweep.yaml", HELD_SWEEP))
    free = detach(write(tmp_path, "free.yaml", FREE_JOB))
    assert wait_done(free) == "succeeded"  # the server claimed what it may run, after both held ones
    run = get(held)
    assert run["status"] == "created"
    assert run["conditions"][-1]["reason"] == "WaitingForApproval"
    assert f"mizzen ops approve {held[:12]}" in run["conditions"][-1]["message"]
    shown = mizzen("ops", "get", held[:8])
    assert "WaitingForApproval" in shown.stdout and "waiting for approval" in shown.stdout
    assert get(sweep)["status"] == "created" and children(sweep) == []

    approved = mizzen("ops", "approve", held[:8])
    assert approved.returncode == 0, approved.stderr
    assert f"Approved run {held}" in approved.stdout
    assert wait_done(held) == "succeeded"
    assert "approved and ran" in mizzen("ops", "logs", held).stdout
    reasons = [c["reason"] for c in get(held)["conditions"]]
    assert reasons[:2] == ["WaitingForApproval", "Approved"]

    assert mizzen("ops", "approve", sweep).returncode == 0
    assert wait_done(sweep) == "succeeded"
    assert sorted(c["status"] for c in children(sweep)) == ["succeeded", "succeeded"]

    again = mizzen("ops", "approve", held)
    assert again.returncode == 1
    assert "is not waiting for approval (it is succeeded)" in again.stderr


def test_mizzen_run_of_a_held_run_waits_and_finishes_once_another_process_approves_it(
    home: Path, tmp_path: Path
) -> None:
    spec = write(tmp_path, "held.yaml", HELD_JOB)
    watching = subprocess.Popen(
        [MIZZEN, "run", "-f", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + DEADLINE
        uuid = None
        while uuid is None:
            assert watching.poll() is None, watching.communicate()
            assert time.monotonic() < deadline, "the run was not created"
            listed = mizzen("ops", "ls", "--json")
            found = json.loads(listed.stdout) if listed.returncode == 0 else []
            uuid = found[0]["uuid"] if found else None
        assert mizzen("ops", "approve", uuid).returncode == 0
        out, err = watching.communicate(timeout=DEADLINE)
    finally:
        if watching.poll() is None:
            watching.kill()
            watching.communicate()
    assert watching.returncode == 0, out + err
    assert "waiting for `mizzen ops approve" in err
    assert "approved and ran" in out


CACHED = """
    version: 1.1
    kind: operation
    cache: {ttl: 3600}
    params:
      n: {value: 21}
    component:
      inputs: [{name: n, type: int}]
      outputs: [{name: total, type: int, isOptional: true}]
      run:
        kind: job
        container:
          image: x
          command: [python, -c]
          args:
            - "from mizzen import tracking; print('computing'); tracking.init();
              tracking.log_outputs(total={{ n }} * 2)"
"""


def test_a_second_identical_run_reuses_the_first_until_it_is_invalidated(home: Path, tmp_path: Path) -> None:
    spec = write(tmp_path, "cached.yaml", CACHED)
    first = mizzen("run", "-f", str(spec))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "computing" in first.stdout
    first_uuid = json.loads(mizzen("ops", "ls", "--json").stdout)[0]["uuid"]

    second = mizzen("run", "-f", str(spec))
    assert second.returncode == 0, second.stdout + second.stderr  # a cache hit is a success
    assert "computing" not in second.stdout
    assert f"reused the outputs of run {first_uuid}" in second.stdout + second.stderr
    assert "total=42" in second.stdout
    second_run = get(json.loads(mizzen("ops", "ls", "--json").stdout)[0]["uuid"])
    assert second_run["status"] == "skipped"
    assert second_run["meta"]["cache_hit"]["uuid"] == first_uuid
    assert second_run["outputs"] == {"total": 42}

    dropped = mizzen("ops", "invalidate", first_uuid[:8], "--yes")
    assert dropped.returncode == 0, dropped.stderr
    assert "Dropped 1 run from the cache" in dropped.stdout
    third = mizzen("run", "-f", str(spec))
    assert third.returncode == 0, third.stdout + third.stderr
    assert "computing" in third.stdout  # it ran again
    nothing = mizzen("ops", "invalidate", first_uuid, "-y")
    assert nothing.returncode == 1
    assert "is not in the cache" in nothing.stderr and "nothing to invalidate" in nothing.stderr
