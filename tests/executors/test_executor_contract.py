"""The contract every executor keeps, whatever runs the processes. Add an executor to ``EXECUTORS``.

Plans here use only what every executor understands: a POSIX shell command, env, termination.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.executors.kubernetes.fixtures import kube_on_processes, make_kube  # noqa: F401
from tests.executors.support import MakeExecutor, Recorder, make_plan, new_run

from k8s_double.fixtures import k8s_double, k8s_kubeconfig  # noqa: F401
from mizzen.compiler.plan import TerminationPlan
from mizzen.executors.base import Executor, RunRef
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

S = RunStatus
EXECUTORS = ["local", "kubernetes"]


@pytest.fixture(params=EXECUTORS)
def any_executor(request: pytest.FixtureRequest, make_executor: MakeExecutor) -> Executor:
    makers: dict[str, Callable[[], Executor]] = {
        "local": make_executor,
        "kubernetes": lambda: request.getfixturevalue("kube_on_processes"),  # the API double; pods run here
    }
    return makers[request.param]()


def test_it_is_an_executor_with_capabilities(any_executor: Executor) -> None:
    assert isinstance(any_executor, Executor)
    capabilities = any_executor.capabilities
    assert capabilities.kinds and capabilities.gpus >= 0


def test_the_runtime_context_describes_the_run(any_executor: Executor) -> None:
    run = new_run(name="n", project="p", owner="o", iteration=2)
    context = any_executor.runtime_context(run)
    assert (context.uuid, context.name, context.project_name, context.owner_name) == (run.uuid, "n", "p", "o")
    assert context.iteration == 2
    assert context.run_outputs_path.startswith(context.run_artifacts_path)
    assert run.uuid in context.run_artifacts_path
    assert any_executor.runtime_context(run) == context  # the same run, the same answer


def test_a_run_is_reported_from_queued_to_its_end(any_executor: Executor, recorder: Recorder) -> None:
    ok, bad = new_run(), new_run()
    any_executor.submit(ok, make_plan(["sh", "-c", "echo $GREETING"]))
    any_executor.submit(bad, make_plan(["sh", "-c", "exit 3"]))
    assert any_executor.wait(ok.uuid, 60) == S.SUCCEEDED
    assert any_executor.wait(bad.uuid, 60) == S.FAILED
    assert recorder.statuses(ok.uuid) == [S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED]
    assert recorder.last(bad.uuid).reason == "exit code 3"
    for run in (ok, bad):
        assert sum(status in DONE_STATUSES for status in recorder.statuses(run.uuid)) == 1


def test_timeout_and_stop_end_runs(any_executor: Executor, recorder: Recorder, tmp_path: Path) -> None:
    slow = new_run()
    any_executor.submit(slow, make_plan(["sleep", "60"], termination=TerminationPlan(timeout=1)))
    assert any_executor.wait(slow.uuid, 60) == S.FAILED
    # "killed: timeout after 1s" locally, "deadline exceeded: timeout after 1s" on Kubernetes
    assert (recorder.last(slow.uuid).reason or "").endswith("timeout after 1s")
    stopped: RunRef = new_run()
    any_executor.submit(stopped, make_plan(["sh", "-c", "echo up; sleep 60"]))
    recorder.wait_for(lambda: "up" in recorder.lines(stopped.uuid))
    any_executor.stop(stopped.uuid, 1)
    assert any_executor.wait(stopped.uuid, 60) == S.STOPPED
    any_executor.clean(stopped.uuid)
