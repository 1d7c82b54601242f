"""A local run from queued to done: statuses, exit reasons, timeout, retries, stop, queue, ttl."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from tests.executors.support import (
    PYTHON,
    MakeExecutor,
    Recorder,
    container,
    make_plan,
    new_run,
    pid_gone,
    run_to_end,
)

from mizzen.compiler.plan import PodPlan, ReplicaPlan, RunKind, TerminationPlan
from mizzen.errors import ExecutorError
from mizzen.executors.base import Executor
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_the_local_executor_implements_the_protocol(executor: Executor) -> None:
    assert isinstance(executor, Executor)
    assert RunKind.JOB in executor.capabilities.kinds
    assert RunKind.MPIJOB not in executor.capabilities.kinds
    assert "cluster" in executor.capabilities.notes["mpijob"]


def test_a_job_reports_every_status_in_order_and_succeeds(executor, recorder: Recorder) -> None:
    run = run_to_end(executor, make_plan(["sh", "-c", "echo hello"]))
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED]
    assert executor.wait(run.uuid, 0) == S.SUCCEEDED
    assert "hello" in recorder.lines(run.uuid, "main")


def test_a_non_zero_exit_fails_with_the_exit_code(executor, recorder: Recorder) -> None:
    run = run_to_end(executor, make_plan(["sh", "-c", "exit 3"]))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "exit code 3")
    assert "main" in (last.message or "")


def test_a_missing_command_is_named(executor, recorder: Recorder) -> None:
    run = run_to_end(executor, make_plan(["pyhton", "train.py"]))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "command not found: pyhton")
    assert S.RUNNING not in recorder.statuses(run.uuid)


def test_a_process_killed_by_a_signal_says_which(executor, recorder: Recorder) -> None:
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    run = run_to_end(executor, make_plan([PYTHON, "-c", suicide]))
    assert recorder.last(run.uuid).reason == "killed by signal 9"


def test_timeout_kills_the_whole_group_and_fails(executor, recorder: Recorder, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 60 & echo $! > {pids}; sleep 60"
    plan = make_plan(["sh", "-c", script], termination=TerminationPlan(timeout=2))
    run = run_to_end(executor, plan, timeout=30)
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "killed: timeout after 2s")
    assert S.RETRYING not in recorder.statuses(run.uuid)
    assert pid_gone(int(pids.read_text()))


def test_a_failed_attempt_is_retried_until_it_succeeds(executor, recorder: Recorder, tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    script = f"echo x >> {counter}; test $(wc -l < {counter}) -ge 3"
    plan = make_plan(["sh", "-c", script], termination=TerminationPlan(max_retries=3))
    run = run_to_end(executor, plan)
    assert recorder.statuses(run.uuid) == [
        S.QUEUED,
        S.SCHEDULED,
        *[S.STARTING, S.RUNNING, S.RETRYING] * 2,
        S.STARTING,
        S.RUNNING,
        S.SUCCEEDED,
    ]
    assert len(counter.read_text().splitlines()) == 3
    retrying = recorder.event(run.uuid, S.RETRYING)
    assert retrying.reason == "exit code 1"
    assert "attempt 1 of 4" in (retrying.message or "")


def test_retries_run_out_and_the_run_fails(executor, recorder: Recorder) -> None:
    plan = make_plan(["sh", "-c", "exit 5"], termination=TerminationPlan(max_retries=2))
    run = run_to_end(executor, plan)
    assert recorder.statuses(run.uuid).count(S.RETRYING) == 2
    assert recorder.statuses(run.uuid).count(S.STARTING) == 3
    assert (recorder.last(run.uuid).status, recorder.last(run.uuid).reason) == (S.FAILED, "exit code 5")


STUBBORN = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    child_code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('child up', flush=True); time.sleep(600)"
    )
    child = subprocess.Popen([sys.executable, "-c", child_code])
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
    print("parent up", flush=True)
    time.sleep(600)
    """
)


def test_stop_kills_every_process_of_the_run(executor, recorder: Recorder, tmp_path: Path) -> None:
    pids_file = tmp_path / "pids"
    run = new_run()
    executor.submit(run, make_plan([PYTHON, "-c", STUBBORN, str(pids_file)]))
    recorder.wait_for(lambda: "child up" in recorder.lines(run.uuid) and pids_file.exists())
    pids = [int(p) for p in pids_file.read_text().split()]
    executor.stop(run.uuid, grace_seconds=1)
    assert executor.wait(run.uuid, 30) == S.STOPPED
    assert recorder.statuses(run.uuid)[-2:] == [S.STOPPING, S.STOPPED]
    assert recorder.last(run.uuid).reason == "stopped by user"
    assert all(pid_gone(pid) for pid in pids)


def test_processes_a_job_leaves_behind_are_killed_when_it_ends(executor, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    run_to_end(executor, make_plan(["sh", "-c", f"sleep 300 & echo $! > {pid_file}"]))
    assert pid_gone(int(pid_file.read_text()))


def test_stop_while_queued(make_executor: MakeExecutor, recorder: Recorder, tmp_path: Path) -> None:
    executor = make_executor(max_concurrency=1)
    gate = tmp_path / "gate"
    first, second = new_run(), new_run()
    executor.submit(first, make_plan(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]))
    executor.submit(second, make_plan(["true"]))
    executor.stop(second.uuid)
    assert executor.wait(second.uuid, 10) == S.STOPPED
    assert recorder.statuses(second.uuid) == [S.QUEUED, S.STOPPED]
    gate.touch()
    assert executor.wait(first.uuid, 30) == S.SUCCEEDED


def test_concurrency_limit_runs_the_queue_in_order(make_executor: MakeExecutor, recorder: Recorder) -> None:
    executor = make_executor(max_concurrency=1)
    runs = [new_run() for _ in range(3)]
    for run in runs:
        executor.submit(run, make_plan(["sh", "-c", "sleep 0.2"]))
    for run in runs:
        assert executor.wait(run.uuid, 60) == S.SUCCEEDED
    order = [(e.uuid, e.status) for e in recorder.events if e.status in (S.SCHEDULED, S.SUCCEEDED)]
    expected = [(run.uuid, status) for run in runs for status in (S.SCHEDULED, S.SUCCEEDED)]
    assert order == expected


def test_ttl_removes_the_run_folder_after_the_end(executor, recorder: Recorder, tmp_path: Path) -> None:
    run = run_to_end(executor, make_plan(["true"], termination=TerminationPlan(ttl=0)))
    run_dir = tmp_path / "home" / "runs" / run.uuid
    recorder.wait_for(lambda: not run_dir.exists(), timeout=10)
    assert (tmp_path / "store" / run.uuid / "logs").is_dir()  # artifacts stay


def test_clean_removes_the_run_folder_and_refuses_active_runs(executor, tmp_path: Path) -> None:
    run = new_run()
    gate = tmp_path / "gate"
    executor.submit(run, make_plan(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]))
    with pytest.raises(ExecutorError, match="still active"):
        executor.clean(run.uuid)
    gate.touch()
    executor.wait(run.uuid, 30)
    assert (tmp_path / "home" / "runs" / run.uuid).is_dir()
    executor.clean(run.uuid)
    assert not (tmp_path / "home" / "runs" / run.uuid).exists()


def test_submitting_an_active_run_twice_is_refused(executor, tmp_path: Path) -> None:
    run = new_run()
    gate = tmp_path / "gate"
    executor.submit(run, make_plan(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]))
    with pytest.raises(ExecutorError, match="already submitted"):
        executor.submit(run, make_plan(["true"]))
    gate.touch()
    assert executor.wait(run.uuid, 30) == S.SUCCEEDED


@pytest.mark.parametrize("kind", [RunKind.MPIJOB, RunKind.RAYCLUSTER, RunKind.DASKCLUSTER])
def test_kinds_that_need_a_cluster_fail_with_a_clear_reason(
    executor, recorder: Recorder, kind: RunKind
) -> None:
    replicas = [ReplicaPlan(role="worker", replicas=2, pod=PodPlan(main=container(["true"])))]
    run = run_to_end(executor, make_plan(kind=kind, replicas=replicas))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "unsupported locally")
    assert f"kind '{kind.value}' cannot run locally" in (last.message or "")
    assert "mizzen config set host" in (last.message or "")


def test_wait_times_out_with_none_and_unknown_runs_are_errors(executor, tmp_path: Path) -> None:
    run = new_run()
    gate = tmp_path / "gate"
    executor.submit(run, make_plan(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]))
    assert executor.wait(run.uuid, 0.1) is None
    gate.touch()
    assert executor.wait(run.uuid, 30) == S.SUCCEEDED
    with pytest.raises(ExecutorError, match="not known"):
        executor.wait("nope", 0)
    assert os.path.isdir(tmp_path / "store" / run.uuid / "outputs")
