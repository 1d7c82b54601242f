"""Faults through the whole agent: killed and restarted mid-run, dropped watches and 410s, the API
away for a while, a missing operator. Each ends with no duplicate object and the right statuses."""

from __future__ import annotations

import json

import pytest
from tests.agent.cluster import NS, Installation, eventually
from tests.agent.test_agent_e2e import MAIN, job_file, pytorch_file

from mizzen.render.k8s import run_object_name
from mizzen.render.k8s.metadata import RUN_UUID
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def _submit_job(setup: Installation, name: str = "job.yaml") -> str:
    path = setup.write_polyaxonfile(name, job_file())
    done = setup.mizzen("run", "-f", str(path), "--detach", "-p", "faults")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _main_lines(setup: Installation, uuid: str) -> list[str]:
    with setup.client() as client:
        chunk = client.logs.get(uuid)
    return [line.line for line in chunk.lines if line.line.startswith("step")]


def _objects_of(setup: Installation, uuid: str) -> dict[str, int]:
    selector = f"{RUN_UUID}={uuid}"
    return {
        "jobs": setup.count("batch/v1", "Job", selector),
        "pods": setup.count("v1", "Pod", selector),
        "secrets": setup.count("v1", "Secret", selector),
    }


def _running_job(setup: Installation) -> tuple[str, str, str]:
    uuid = _submit_job(setup)
    job = run_object_name("job", uuid)
    (pod,) = setup.pods("Job", job)
    setup.double.set_pod_phase(NS, pod, "Running", node="node-1")
    setup.wait_status(uuid, S.RUNNING)
    return uuid, job, pod


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_an_agent_killed_mid_run_is_replaced_without_duplicates(installation: Installation, how: str) -> None:
    setup = installation
    first = setup.start_agent()
    uuid, _, pod = _running_job(setup)
    setup.double.append_log(NS, pod, MAIN, "step 1\n")
    eventually(lambda: _main_lines(setup, uuid) == ["step 1"], "the first line streamed")
    if how == "SIGKILL":
        first.kill()
    else:
        assert first.terminate() == 0  # a clean exit: the run goes on in the cluster
    setup.double.append_log(NS, pod, MAIN, "step 2 (nobody watching)\n")
    assert setup.run(uuid).status == S.RUNNING

    setup.start_agent()  # the same name: it adopts the run
    setup.double.append_log(NS, pod, MAIN, "step 3\n")
    eventually(lambda: len(_main_lines(setup, uuid)) == 3, "the lines of the gap and after")
    setup.double.set_pod_phase(NS, pod, "Succeeded")
    setup.wait_status(uuid, S.SUCCEEDED)
    assert _main_lines(setup, uuid) == ["step 1", "step 2 (nobody watching)", "step 3"]  # each once
    assert _objects_of(setup, uuid) == {"jobs": 1, "pods": 1, "secrets": 1}
    statuses = setup.statuses(uuid)
    assert statuses.count(S.RUNNING) == 1 and statuses[-1] == S.SUCCEEDED, statuses


def test_a_run_that_ends_while_no_agent_watches_gets_its_final_status(installation: Installation) -> None:
    setup = installation
    first = setup.start_agent()
    uuid, job, pod = _running_job(setup)
    first.kill()
    setup.double.set_pod_phase(NS, pod, "Failed", exit_code=3)
    eventually(
        lambda: (setup.double.get("batch/v1", "Job", job, NS) or {}).get("status", {}).get("failed"),
        "job failed",
    )
    setup.start_agent()
    final = setup.wait_status(uuid, S.FAILED)
    assert final.conditions is not None and final.conditions[-1].reason == "exit code 3"
    assert _objects_of(setup, uuid)["jobs"] <= 1


def test_two_agents_never_run_the_same_run(installation: Installation) -> None:
    setup = installation
    setup.start_agent(name="agent-a")
    setup.start_agent(name="agent-b")
    uuids = [_submit_job(setup, f"job-{i}.yaml") for i in range(6)]
    for uuid in uuids:
        setup.object("batch/v1", "Job", run_object_name("job", uuid))
        setup.wait_status(uuid, S.SCHEDULED)
    assert setup.count("batch/v1", "Job") == 6
    owners = {setup.run(uuid).meta["owner"] for uuid in uuids}
    assert owners <= {"agent-a", "agent-b"}
    for uuid in uuids:
        assert _objects_of(setup, uuid)["jobs"] == 1


@pytest.mark.parametrize("expire", [False, True], ids=["dropped-watch", "410-gone"])
def test_a_dropped_watch_or_a_410_leaves_no_status_wrong(installation: Installation, expire: bool) -> None:
    setup = installation
    setup.start_agent()
    uuid = _submit_job(setup)
    job = run_object_name("job", uuid)
    (pod,) = setup.pods("Job", job)
    setup.wait_status(uuid, S.SCHEDULED)
    if expire:
        setup.double.expire_watch_history()  # every resourceVersion the agent knows is now too old
    setup.double.drop_watches()
    setup.double.set_pod_phase(NS, pod, "Running", node="node-1")  # while the watches reconnect
    setup.wait_status(uuid, S.RUNNING)
    if expire:
        setup.double.expire_watch_history()
    setup.double.drop_watches()
    setup.double.set_pod_phase(NS, pod, "Succeeded")
    setup.wait_status(uuid, S.SUCCEEDED)
    statuses = setup.statuses(uuid)
    assert statuses[statuses.index(S.SCHEDULED) :] in (
        [S.SCHEDULED, S.RUNNING, S.SUCCEEDED],
        [S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED],
    ), statuses
    assert _objects_of(setup, uuid)["jobs"] == 1


def test_statuses_and_logs_wait_out_an_api_outage(installation: Installation) -> None:
    setup = installation
    agent = setup.start_agent()
    uuid, job, pod = _running_job(setup)
    setup.api.stop()
    setup.double.append_log(NS, pod, MAIN, "step 1 (API away)\nstep 2 (API away)\n")
    setup.double.set_pod_phase(NS, pod, "Succeeded")
    eventually(
        lambda: (setup.double.get("batch/v1", "Job", job, NS) or {}).get("status", {}).get("succeeded"),
        "job done",
    )
    assert agent.process.poll() is None  # the agent rides it out
    setup.api.start()
    setup.wait_status(uuid, S.SUCCEEDED)
    eventually(
        lambda: _main_lines(setup, uuid) == ["step 1 (API away)", "step 2 (API away)"], "the buffered logs"
    )


def test_a_missing_operator_is_said_at_start_and_fails_its_runs_clearly(installation: Installation) -> None:
    setup = installation
    setup.double.remove_crd("pytorchjobs.kubeflow.org")
    agent = setup.start_agent()
    eventually(lambda: "pytorchjob runs cannot run here" in agent.output(), "the start-up warning")
    done = setup.mizzen("agent", "ls", "--json")
    assert done.returncode == 0, done.stderr
    [listed] = json.loads(done.stdout)
    assert listed["healthy"] and "pytorchjob" in listed["capabilities"]["missing_operators"]
    path = setup.write_polyaxonfile("ddp.yaml", pytorch_file())
    run = setup.mizzen("run", "-f", str(path), "--detach", "-p", "faults")
    uuid = run.stdout.strip()
    final = setup.wait_status(uuid, S.FAILED)
    assert final.conditions is not None
    message = final.conditions[-1].message or ""
    assert "training-operator" in message.lower() or "kubeflow" in message.lower(), message
    table = setup.mizzen("agent", "ls")
    assert "default" in table.stdout and "pytorchjob" in table.stdout


def test_a_run_stopped_while_unschedulable_has_its_objects_deleted(installation: Installation) -> None:
    setup = installation
    setup.start_agent()
    spec = job_file()
    spec["run"]["container"]["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    path = setup.write_polyaxonfile("gpu.yaml", spec)
    done = setup.mizzen("run", "-f", str(path), "--detach", "-p", "faults")
    assert done.returncode == 0, done.stderr
    uuid = done.stdout.strip()
    job = run_object_name("job", uuid)
    (pod,) = setup.pods("Job", job)
    setup.double.make_unschedulable(NS, pod)
    waiting = setup.wait_status(uuid, S.UNSCHEDULABLE)
    assert waiting.conditions is not None
    assert "Insufficient nvidia.com/gpu" in (waiting.conditions[-1].message or "") + (
        waiting.conditions[-1].reason or ""
    )
    stop = setup.mizzen("ops", "stop", uuid, "--yes")  # the API stops it at once: nothing ran yet
    assert stop.returncode == 0, stop.stderr
    assert setup.run(uuid).status == S.STOPPED
    eventually(lambda: setup.double.get("batch/v1", "Job", job, NS) is None, "the agent deleted the job")
    eventually(lambda: not setup.double.pods_of(NS, "Job", job), "and its pod")
    assert setup.run(uuid).status == S.STOPPED
