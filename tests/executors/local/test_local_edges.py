"""Interruptions in awkward places, the secret catalog file, settings, shutdown."""

from __future__ import annotations

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

from mizzen.compiler.plan import EnvVar, InitStep, RunKind, TerminationPlan
from mizzen.errors import ExecutorError
from mizzen.executors.local import Backoff, GpuInventory, LocalExecutor
from mizzen.executors.local.catalog import load_catalog
from mizzen.schemas.statuses import RunStatus
from mizzen.settings import Settings

S = RunStatus


def slow_init(pid_file: Path) -> InitStep:
    script = f"echo $$$$ > {pid_file}; echo init up; sleep 300"
    return InitStep(kind="container", name="init-slow", container=container(["sh", "-c", script]))


def test_stop_during_an_init_step(executor, recorder: Recorder, tmp_path: Path) -> None:
    pid_file = tmp_path / "init.pid"
    run = new_run()
    executor.submit(run, make_plan(["echo", "never"], init=[slow_init(pid_file)]))
    recorder.wait_for(lambda: "init up" in recorder.lines(run.uuid, "init-slow"))
    executor.stop(run.uuid, grace_seconds=1)
    assert executor.wait(run.uuid, 30) == S.STOPPED
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.SCHEDULED, S.STARTING, S.STOPPING, S.STOPPED]
    assert pid_gone(int(pid_file.read_text()))
    assert recorder.lines(run.uuid, "main") == []


def test_timeout_during_an_init_step(executor, recorder: Recorder, tmp_path: Path) -> None:
    pid_file = tmp_path / "init.pid"
    plan = make_plan(["echo", "never"], init=[slow_init(pid_file)], termination=TerminationPlan(timeout=1))
    run = run_to_end(executor, plan)
    assert recorder.last(run.uuid).reason == "killed: timeout after 1s"
    assert pid_gone(int(pid_file.read_text()))


def test_stop_during_the_retry_backoff(make_executor: MakeExecutor, recorder: Recorder) -> None:
    executor = make_executor(backoff=Backoff(base=300, maximum=300))
    run = new_run()
    executor.submit(run, make_plan(["sh", "-c", "exit 1"], termination=TerminationPlan(max_retries=1)))
    recorder.wait_status(run.uuid, S.RETRYING)
    executor.stop(run.uuid, grace_seconds=1)
    assert executor.wait(run.uuid, 30) == S.STOPPED


def test_a_service_that_never_answers_fails(make_executor: MakeExecutor, recorder: Recorder) -> None:
    executor = make_executor(readiness_timeout=0.5)
    run = run_to_end(executor, make_plan(["sleep", "300"], kind=RunKind.SERVICE))
    last = recorder.last(run.uuid)
    assert (last.status, last.reason) == (S.FAILED, "service not ready")
    assert "nothing answered on port" in (last.message or "")


def test_close_stops_what_runs_and_what_waits(make_executor: MakeExecutor, recorder: Recorder) -> None:
    executor = make_executor(max_concurrency=1)
    running, waiting = new_run(), new_run()
    executor.submit(
        running, make_plan([PYTHON, "-c", "print('up', flush=True); import time; time.sleep(300)"])
    )
    executor.submit(waiting, make_plan(["true"]))
    recorder.wait_for(lambda: "up" in recorder.lines(running.uuid))
    executor.close(grace_seconds=1)
    assert executor.wait(running.uuid, 0) == S.STOPPED
    assert executor.wait(waiting.uuid, 0) == S.STOPPED


def test_the_secret_catalog_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    assert load_catalog(path).secrets == {}
    path.write_text(
        "secrets:\n  git: {MIZZEN_GIT_CREDENTIALS: 'u:t', PORT: 22}\nconfig_maps:\n  c: {A: null}\n"
    )
    catalog = load_catalog(path)
    assert catalog.secrets == {"git": {"MIZZEN_GIT_CREDENTIALS": "u:t", "PORT": "22"}}
    assert catalog.config_maps == {"c": {"A": ""}}
    for text, words in [
        ("secrets: [", "not valid YAML"),
        ("- a\n", "expected a mapping"),
        ("secret: {}\n", "unknown keys ['secret']"),
        ("secrets:\n  git: token\n", "secrets.git: expected a mapping of key -> value"),
    ]:
        path.write_text(text)
        with pytest.raises(ExecutorError, match=words.replace("[", r"\[").replace("]", r"\]")):
            load_catalog(path)


def test_the_executor_from_settings(tmp_path: Path, recorder: Recorder) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "secrets.yaml").write_text("secrets:\n  api: {TOKEN: abc}\n")
    settings = Settings(home=home, max_concurrency=2)
    executor = LocalExecutor.from_settings(settings, recorder, gpus=GpuInventory())
    try:
        assert executor.capabilities.max_concurrency == 2
        run = new_run()
        assert executor.runtime_context(run).run_artifacts_path == str(home / "artifacts" / run.uuid)
        token = EnvVar(name="TOKEN", value_from={"secretKeyRef": {"name": "api", "key": "TOKEN"}})
        main = container(["sh", "-c", "echo $TOKEN"], env_vars=[token])
        run_to_end(executor, make_plan(main=main), run)
        assert recorder.lines(run.uuid, "main") == ["abc"]
    finally:
        executor.close(1)
    with pytest.raises(ExecutorError, match="max_concurrency must be at least 1"):
        LocalExecutor(recorder, home=home, artifacts_store=str(home), max_concurrency=0)


class StopWhenRunning(Recorder):
    """A consumer that reacts to a status by calling the executor back, from the reporting thread."""

    executor: LocalExecutor | None = None

    def on_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        super().on_status(uuid, status, reason, message)
        if status == S.RUNNING and self.executor is not None:
            self.executor.stop(uuid, grace_seconds=1)


def test_a_consumer_may_call_the_executor_from_a_status_report(tmp_path: Path) -> None:
    consumer = StopWhenRunning()
    executor = LocalExecutor(
        consumer, home=tmp_path / "home", artifacts_store=str(tmp_path / "store"), gpus=GpuInventory()
    )
    consumer.executor = executor
    try:
        run = new_run()
        executor.submit(run, make_plan(["sleep", "300"]))
        assert executor.wait(run.uuid, 30) == S.STOPPED
        assert consumer.statuses(run.uuid)[-3:] == [S.RUNNING, S.STOPPING, S.STOPPED]
    finally:
        executor.close(1)


def test_a_run_that_cannot_get_a_supervisor_fails_and_gives_back_its_slot_and_gpus(
    make_executor: MakeExecutor, recorder: Recorder
) -> None:
    executor = make_executor(gpus=GpuInventory.of(1), max_concurrency=1)
    # A caller's bug: the run's context refuses an iteration that is not a number.
    broken = new_run(iteration="not a number")
    executor.submit(broken, make_plan(main=container(["true"], gpus=1)))
    assert executor.wait(broken.uuid, 30) == S.FAILED
    assert recorder.last(broken.uuid).reason == "executor error"
    # The only slot and the only GPU are free again: the next run gets both.
    run = run_to_end(executor, make_plan(main=container([PYTHON, "-c", "print('ran')"], gpus=1)))
    assert recorder.last(run.uuid).status == S.SUCCEEDED
    assert recorder.lines(run.uuid, "main") == ["ran"]
