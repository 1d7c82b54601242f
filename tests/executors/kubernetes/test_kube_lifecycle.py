"""A job through the Kubernetes executor: statuses from queued to the end, reasons, logs, retries."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.executors.kubernetes.fixtures import MakeKube
from tests.executors.kubernetes.support import NS, job_plan, pod_names
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from mizzen.compiler.plan import RunKind, TerminationPlan
from mizzen.errors import ExecutorError
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def test_a_job_runs_from_queued_to_succeeded_with_its_logs(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run(token="secret-token")
    kube.submit(run, job_plan())
    job = run_object_name("job", run.uuid)
    assert k8s_double.get("batch/v1", "Job", job, NS) is not None
    (pod,) = pod_names(k8s_double, "Job", job)
    recorder.wait_status(run.uuid, S.SCHEDULED)
    k8s_double.set_pod_phase(NS, pod, "Pending", node="node-1")
    recorder.wait_status(run.uuid, S.STARTING)
    k8s_double.set_pod_phase(NS, pod, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    k8s_double.append_log(NS, pod, "mizzen-main", "hello\nworld\n")
    recorder.wait_for(lambda: "world" in recorder.lines(run.uuid, "main"))
    k8s_double.append_log(NS, pod, "mizzen-main", "last line\n")
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED]
    assert recorder.lines(run.uuid, "main") == ["hello", "world", "last line"]
    events = recorder.lines(run.uuid, "events")
    assert any("Scheduled" in line and pod in line for line in events), events
    secret = k8s_double.get("v1", "Secret", f"mzn-token-{run.uuid[:12]}", NS)
    assert secret is not None and secret["metadata"]["ownerReferences"][0]["name"] == job


def test_a_failed_job_says_its_exit_code(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan())
    (pod,) = pod_names(k8s_double, "Job", run_object_name("job", run.uuid))
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.set_pod_phase(NS, pod, "Failed", exit_code=3)
    assert kube.wait(run.uuid, 30) == S.FAILED
    assert recorder.last(run.uuid).reason == "exit code 3"
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.FAILED]


def test_a_job_with_retries_retries_then_succeeds(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan(termination=TerminationPlan(max_retries=2)))
    job = run_object_name("job", run.uuid)
    (first,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, first, "Running")
    recorder.wait_status(run.uuid, S.RUNNING)
    k8s_double.set_pod_phase(NS, first, "Failed", exit_code=1)
    retrying = recorder.wait_status(run.uuid, S.RETRYING)
    assert retrying.reason == "exit code 1"
    assert retrying.message and "attempt 1 of 3 failed" in retrying.message
    second = next(name for name in pod_names(k8s_double, "Job", job, 2) if name != first)
    k8s_double.set_pod_phase(NS, second, "Running")
    k8s_double.set_pod_phase(NS, second, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert recorder.statuses(run.uuid) == [
        S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.RETRYING, S.STARTING, S.RUNNING, S.SUCCEEDED,
    ]  # fmt: skip
    assert len(k8s_double.list("batch/v1", "Job", NS)) == 1


def test_a_job_out_of_retries_fails_with_the_last_reason(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan(termination=TerminationPlan(max_retries=1)))
    job = run_object_name("job", run.uuid)
    (first,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, first, "Failed", exit_code=2)
    second = next(name for name in pod_names(k8s_double, "Job", job, 2) if name != first)
    k8s_double.set_pod_phase(NS, second, "Failed", exit_code=4)
    assert kube.wait(run.uuid, 30) == S.FAILED
    final = recorder.last(run.uuid)
    assert final.reason == "exit code 4"
    assert final.message and "BackoffLimitExceeded" not in final.reason


def test_closing_leaves_runs_running_unless_told_to_stop_them(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    kept, stopped = new_run(), new_run()
    for run, stop_on_close in ((kept, False), (stopped, True)):
        executor = make_kube(stop_on_close=stop_on_close)
        executor.submit(run, job_plan())
        (pod,) = pod_names(k8s_double, "Job", run_object_name("job", run.uuid))
        k8s_double.set_pod_phase(NS, pod, "Running")
        recorder.wait_status(run.uuid, S.RUNNING)
        executor.close(grace_seconds=1)
    assert k8s_double.get("batch/v1", "Job", run_object_name("job", kept.uuid), NS) is not None
    assert recorder.statuses(kept.uuid)[-1] == S.RUNNING  # a new executor adopts it
    assert recorder.statuses(stopped.uuid)[-1] == S.STOPPED
    assert k8s_double.get("batch/v1", "Job", run_object_name("job", stopped.uuid), NS) is None


def test_clean_removes_what_is_left_of_a_finished_run(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run(token="t")
    kube.submit(run, job_plan())
    job = run_object_name("job", run.uuid)
    (pod,) = pod_names(k8s_double, "Job", job)
    with pytest.raises(ExecutorError, match="still active"):
        kube.clean(run.uuid)
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    assert k8s_double.get("batch/v1", "Job", job, NS) is not None  # no ttl: kept for inspection
    kube.clean(run.uuid)
    assert k8s_double.get("batch/v1", "Job", job, NS) is None
    assert k8s_double.list("v1", "Secret", NS, label_selector=f"mizzen.dev/run-uuid={run.uuid}") == []


def test_the_runtime_context_is_polyaxon_s_layout_in_the_pod(kube: KubernetesExecutor) -> None:
    run = new_run(api_host="http://127.0.0.1:8000")
    context = kube.runtime_context(run)
    assert (context.context_path, context.artifacts_path) == ("/mizzen/context", "/mizzen/context/artifacts")
    assert context.run_artifacts_path == f"/mizzen/context/artifacts/{run.uuid}"
    assert context.run_outputs_path == f"/mizzen/context/artifacts/{run.uuid}/outputs"
    assert context.namespace == NS
    assert context.api_host == "http://mizzen-api.mizzen.svc:8000"  # as pods reach it, not as the agent does


def test_an_executor_made_from_a_kubeconfig_path(k8s_kubeconfig: Path, recorder: Recorder) -> None:
    executor = KubernetesExecutor(recorder, kubeconfig=str(k8s_kubeconfig), namespace=NS)
    try:
        assert executor.check_operators() == {}
        assert {RunKind.JOB, RunKind.PYTORCHJOB, RunKind.RAYCLUSTER} <= executor.capabilities.kinds
    finally:
        executor.close()


def test_a_resumed_run_replaces_the_finished_objects_of_its_earlier_execution(
    kube: KubernetesExecutor, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    run = new_run()
    kube.submit(run, job_plan())
    job = run_object_name("job", run.uuid)
    (first,) = pod_names(k8s_double, "Job", job)
    k8s_double.set_pod_phase(NS, first, "Failed", exit_code=1)
    assert kube.wait(run.uuid, 30) == S.FAILED
    old_uid = k8s_double.get("batch/v1", "Job", job, NS)["metadata"]["uid"]  # type: ignore[index]
    kube.submit(run, job_plan())  # resumed: same uuid, same names
    assert k8s_double.get("batch/v1", "Job", job, NS)["metadata"]["uid"] != old_uid  # type: ignore[index]
    (second,) = pod_names(k8s_double, "Job", job)
    assert second != first
    k8s_double.set_pod_phase(NS, second, "Succeeded")
    assert kube.wait(run.uuid, 30) == S.SUCCEEDED
    events = recorder.lines(run.uuid, "events")
    assert sum(f"Created pod: {first}" in line for line in events) == 1  # the old events, said once
    assert sum(f"Created pod: {second}" in line for line in events) == 1
    assert recorder.statuses(run.uuid).count(S.FAILED) == 1 and recorder.statuses(run.uuid)[-1] == S.SUCCEEDED
