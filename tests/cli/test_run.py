"""`mizzen run` end to end on the embedded default: real CLI processes, real jobs, a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

MIZZEN = str(Path(sys.executable).with_name("mizzen"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    return home


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def mizzen(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MIZZEN, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def ops_get(uuid: str) -> dict:
    result = mizzen("ops", "get", uuid, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_run() -> dict:
    result = mizzen("ops", "ls", "--json")
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert runs, "no run was recorded"
    return ops_get(runs[0]["uuid"])


def test_a_job_runs_with_the_local_folder_as_code_and_is_tracked(home: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write(
        code,
        "train.py",
        """
        import sys
        from mizzen import tracking
        run = tracking.init()
        for step in range(1, 4):
            run.log_metrics(step=step, loss=1.0 / step)
        run.log_outputs(loss=1.0 / 3)
        print("trained with", sys.argv[1:])
        run.end()
        """,
    )
    write(code, ".mizzenignore", "secret.txt\n")
    write(code, "secret.txt", "not for the run\n")
    write(
        code,
        "polyaxonfile.yaml",
        """
        version: 1.1
        kind: component
        name: tiny
        inputs: [{name: lr, type: float, value: 0.1, isOptional: true}]
        outputs: [{name: loss, type: float}]
        run:
          kind: job
          container: {image: python:3.11, command: "python train.py --lr={{ lr }}"}
        """,
    )
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", "-P", "lr=0.5", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "trained with ['--lr=0.5']" in result.stdout
    assert "succeeded" in result.stdout

    run = last_run()
    assert run["status"] == "succeeded" and run["name"] == "tiny"
    assert run["inputs"]["lr"] == 0.5 and run["outputs"]["loss"] == pytest.approx(1 / 3)
    metrics = {m["name"]: m for m in run["metrics"]}
    assert metrics["loss"]["count"] == 3 and metrics["loss"]["min"] == pytest.approx(1 / 3)
    logs = mizzen("ops", "logs", run["uuid"])
    assert "trained with ['--lr=0.5']" in logs.stdout
    artifacts = mizzen("ops", "artifacts", run["uuid"], "--json").stdout
    assert "uploads/train.py" in artifacts and "secret.txt" not in artifacts


def test_a_script_named_like_a_dependency_of_mizzen_runs_once(home: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    # httpx, which the tracking client uploads with, imports rich: the run's own rich.py must not
    # be what it finds.
    write(
        code,
        "rich.py",
        """
        from mizzen import tracking
        print("rich.py executed as", __name__)
        run = tracking.init()
        run.log_metrics(step=1, loss=0.5)
        """,
    )
    write(
        code,
        "polyaxonfile.yaml",
        'version: 1.1\nkind: component\nrun: {kind: job, container: {command: "python rich.py"}}\n',
    )
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("rich.py executed as") == 1, result.stdout
    assert "rich.py executed as __main__" in result.stdout
    metrics = {m["name"]: m for m in last_run()["metrics"]}
    assert metrics["loss"]["count"] == 1


def test_a_job_whose_script_is_not_in_a_run_without_code_says_so_and_suggests_u(
    home: Path, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write(code, "train.py", "print('trained')\n")  # here, but not in the run: no -u
    write(
        code,
        "polyaxonfile.yaml",
        'version: 1.1\nkind: component\nrun: {kind: job, container: {command: "python -u train.py"}}\n',
    )
    result = mizzen("run", "-f", "polyaxonfile.yaml", cwd=code)
    assert result.returncode == 1
    assert "train.py is not in the run's working folder" in result.stdout, result.stdout
    assert "the run has no code" in result.stdout and "mizzen run -u" in result.stdout
    run = last_run()
    assert run["status"] == "failed" and run["conditions"][-1]["reason"] == "no code: exit code 2"
    # With -u the same polyaxonfile runs.
    result = mizzen("run", "-f", "polyaxonfile.yaml", "-u", cwd=code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "trained" in result.stdout


def test_a_failing_job_exits_1_with_its_exit_code_as_the_reason(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "fail.yaml",
        """
        version: 1.1
        kind: component
        run: {kind: job, container: {image: x, command: ["python", "-c", "import sys; sys.exit(3)"]}}
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 1
    run = last_run()
    assert run["status"] == "failed"
    assert run["conditions"][-1]["reason"] == "exit code 3"


def test_a_timeout_fails_the_job_within_seconds_and_kills_it(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "slow.yaml",
        """
        version: 1.1
        kind: component
        termination: {timeout: 2}
        run: {kind: job, container: {image: x, command: ["sleep", "60"]}}
        """,
    )
    started = time.monotonic()
    result = mizzen("run", "-f", str(spec), timeout=60)
    assert result.returncode == 1
    assert time.monotonic() - started < 30  # far below the 60 s the command would take
    run = last_run()
    assert run["status"] == "failed"
    assert "timeout after 2s" in run["conditions"][-1]["reason"]


def test_max_retries_retries_a_failing_job(home: Path, tmp_path: Path) -> None:
    marker = tmp_path / "attempts"
    spec = write(
        tmp_path,
        "flaky.yaml",
        f"""
        version: 1.1
        kind: component
        termination: {{maxRetries: 2}}
        run:
          kind: job
          container:
            image: x
            command: ["sh", "-c", "echo try >> {marker}; [ $(wc -l < {marker}) -ge 3 ]"]
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert marker.read_text().count("try") == 3
    statuses = [c["type"] for c in last_run()["conditions"]]
    assert statuses.count("retrying") == 2 and statuses[-1] == "succeeded"


def test_a_git_init_checks_out_exactly_the_requested_revision(home: Path, tmp_path: Path) -> None:
    repo = tmp_path / "models"
    repo.mkdir()

    def git(*args: str) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
        env["GIT_COMMITTER_EMAIL"] = "t@t"
        return subprocess.run(
            ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / "version.txt").write_text("one\n")
    git("add", ".")
    git("commit", "-q", "-m", "one")
    wanted = git("rev-parse", "HEAD")
    (repo / "version.txt").write_text("two\n")
    git("commit", "-q", "-am", "two")  # the branch moved on: the run must not see this commit
    spec = write(
        tmp_path,
        "git.yaml",
        f"""
        version: 1.1
        kind: component
        run:
          kind: job
          init: [{{git: {{url: "file://{repo}", revision: "{wanted}"}}}}]
          container:
            image: x
            workingDir: "{{{{ globals.artifacts_path }}}}/models"
            command: ["sh", "-c", "git rev-parse HEAD; cat version.txt"]
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert wanted in result.stdout and "one" in result.stdout and "two" not in result.stdout


def test_ops_stop_from_another_process_stops_the_job_and_all_its_children(home: Path, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    spec = write(
        tmp_path,
        "forever.yaml",
        f"""
        version: 1.1
        kind: component
        run:
          kind: job
          container:
            image: x
            command:
            - sh
            - -c
            # $$$$: Kubernetes-style expansion turns $$ into $, so the shell sees $$ (its pid)
            - "sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo $$$$ >> {pids}; wait"
        """,
    )
    watcher = subprocess.Popen(
        [MIZZEN, "run", "-f", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (pids.exists() and len(pids.read_text().split()) == 3):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.1)
        uuid = json.loads(mizzen("ops", "ls", "--json").stdout)[0]["uuid"]
        stop = mizzen("ops", "stop", uuid, "--yes")
        assert stop.returncode == 0, stop.stderr
        watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 1  # the run did not succeed
    assert ops_get(uuid)["status"] == "stopped"
    deadline = time.monotonic() + 10
    for pid in map(int, pids.read_text().split()):
        while _alive(pid):  # a zombie waiting for init to reap it counts as gone
            assert time.monotonic() < deadline, f"process {pid} of the stopped job is still running"
            time.sleep(0.05)


def test_an_invalid_polyaxonfile_exits_1_with_a_located_message(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "typo.yaml",
        """
        version: 1.1
        kind: component
        run:
          kind: job
          contaner: {image: x}
        """,
    )
    result = mizzen("run", "-f", str(spec))
    assert result.returncode == 1
    assert "typo.yaml:6:3" in result.stderr and "contaner" in result.stderr
    assert "Traceback" not in result.stderr


def test_detach_without_a_server_says_how_to_get_one(home: Path, tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        "ok.yaml",
        'version: 1.1\nkind: component\nrun: {kind: job, container: {command: ["true"]}}\n',
    )
    result = mizzen("run", "-f", str(spec), "--detach")
    assert result.returncode == 1
    assert "mizzen server" in result.stderr


def _long_job(tmp_path: Path) -> tuple[Path, Path]:
    """A job whose shell starts two background children: the whole tree must go, not only the shell."""
    pids = tmp_path / "pids"
    spec = write(
        tmp_path,
        "long.yaml",
        f"""
        version: 1.1
        kind: component
        name: long
        run:
          kind: job
          container:
            image: x
            command:
            - sh
            - -c
            - "sleep 300 & echo $! >> {pids}; sleep 300 & echo $! >> {pids}; echo $$$$ >> {pids}; wait"
        """,
    )
    return spec, pids


def _start_and_wait_for_job(spec: Path, pids: Path) -> tuple[subprocess.Popen[str], list[int]]:
    watcher = subprocess.Popen(
        [MIZZEN, "run", "-f", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (pids.exists() and len(pids.read_text().split()) == 3):
        assert watcher.poll() is None, watcher.communicate()
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    return watcher, [int(pid) for pid in pids.read_text().split()]


def _run_processes(uuid: str) -> list[int]:
    """Live processes carrying the run's MIZZEN_RUN_UUID (every process of a run has it)."""
    marker = f"MIZZEN_RUN_UUID={uuid}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _run_uuid_of(pid: int) -> str:
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if item.startswith(b"MIZZEN_RUN_UUID="):
            return item.split(b"=", 1)[1].decode()
    raise AssertionError(f"process {pid} has no MIZZEN_RUN_UUID")


def _wait_all_gone(uuid: str, pids: list[int], within: float) -> None:
    deadline = time.monotonic() + within
    while left := [pid for pid in pids if _alive(pid)] + _run_processes(uuid):
        assert time.monotonic() < deadline, f"processes {left} of run {uuid} are still running"
        time.sleep(0.1)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_or_sighup_of_mizzen_run_stops_the_run_and_its_whole_process_tree(
    home: Path, tmp_path: Path, signum: int, code: int
) -> None:
    spec, pids = _long_job(tmp_path)
    watcher, job_pids = _start_and_wait_for_job(spec, pids)
    try:
        watcher.send_signal(signum)
        _, stderr = watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == code, stderr
    assert "Traceback" not in stderr
    run = last_run()
    assert run["status"] == "stopped", run
    _wait_all_gone(run["uuid"], job_pids, within=30)  # already gone: a stopped run has no process


def test_timeout_s_term_of_mizzen_run_leaves_a_stopped_run_and_no_process(home: Path, tmp_path: Path) -> None:
    spec, pids = _long_job(tmp_path)
    # timeout signals mizzen once the job has had plenty of time to start; the job never ends by itself
    result = subprocess.run(
        ["timeout", "--preserve-status", "-s", "TERM", "30", MIZZEN, "run", "-f", str(spec)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 143, result.stderr
    run = last_run()
    assert run["status"] == "stopped", run
    _wait_all_gone(run["uuid"], [int(pid) for pid in pids.read_text().split()], within=30)


def test_kill_9_of_mizzen_run_leaves_no_process_and_the_next_read_says_orphaned(
    home: Path, tmp_path: Path
) -> None:
    spec, pids = _long_job(tmp_path)
    watcher, job_pids = _start_and_wait_for_job(spec, pids)
    uuid = _run_uuid_of(job_pids[-1])  # not through `mizzen`: no command may help before the check
    watcher.send_signal(signal.SIGKILL)
    watcher.communicate(timeout=30)
    # No other `mizzen run` needed: the watchdog `mizzen run` left behind kills the job's processes.
    # (Generous deadline for a loaded machine; on an idle one they are gone well within a second.)
    _wait_all_gone(uuid, job_pids, within=20)
    run = ops_get(uuid)
    assert run["status"] == "failed" and run["conditions"][-1]["reason"] == "orphaned", run
    assert "exited before the run finished" in run["conditions"][-1]["message"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"))
