"""`mizzen ops stop | restart | resume | copy | delete`: confirmations, waiting, and the new runs."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cli_harness import CliResult

from mizzen.client import ApiNotFound, MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.settings import Settings

Cli = Callable[..., CliResult]
MakeRun = Callable[..., RunRead]


def _statuses(client: MizzenClient, uuid: str) -> list[str]:
    return [c.type.value for c in client.statuses.list(uuid)]


@pytest.fixture
def remote(api_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI talks to the test's API server (as after `mizzen config set host ...`)."""
    monkeypatch.setenv("MIZZEN_HOST", api_server)
    return api_server


class FakeExecutor(threading.Thread):
    """Plays the part of the process executing a run: confirms a stop request once it sees it."""

    def __init__(self, client: MizzenClient, uuid: str) -> None:
        super().__init__(daemon=True)
        self.client, self.uuid = client, uuid
        self.finish = threading.Event()

    def run(self) -> None:
        while not self.finish.is_set():
            if self.client.runs.get(self.uuid).status.value == "stopping":
                self.client.statuses.set(self.uuid, "stopped", reason="Stopped", message="SIGTERM sent")
                return
            time.sleep(0.05)


@pytest.fixture
def executor_for(api_server: str) -> Iterator[Callable[[str], FakeExecutor]]:
    started: list[FakeExecutor] = []

    def start(uuid: str) -> FakeExecutor:
        thread = FakeExecutor(MizzenClient(api_server), uuid)
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.finish.set()
        thread.join(5)
        thread.client.close()


# -- stop -----------------------------------------------------------------------------------------


def test_stop_of_a_queued_run_is_immediate(cli: Cli, api_client: MizzenClient, make_run: MakeRun) -> None:
    run = make_run(api_client, statuses=["queued"])
    result = cli("ops", "stop", run.uuid[:8], "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"Run {run.uuid} stopped."
    last = api_client.statuses.list(run.uuid)[-1]
    assert (last.type.value, last.reason) == ("stopped", "StoppedBeforeStart")


def test_stop_waits_until_the_executor_confirms(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, executor_for: Callable[[str], FakeExecutor]
) -> None:
    run = make_run(api_client, statuses=["running"])
    executor_for(run.uuid)
    result = cli("ops", "stop", run.uuid, "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"Run {run.uuid} stopped."
    assert _statuses(api_client, run.uuid)[-2:] == ["stopping", "stopped"]


def test_stop_is_bounded_when_nothing_confirms(cli: Cli, api_client: MizzenClient, make_run: MakeRun) -> None:
    run = make_run(api_client, statuses=["running"])
    result = cli("ops", "stop", run.uuid, "--yes", "--timeout", "0.5")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: run {run.uuid} is still 'stopping' after 0.5s")
    assert f"mizzen ops statuses {run.uuid[:12]}" in result.stderr
    no_wait = make_run(api_client, statuses=["running"])
    asked = cli("ops", "stop", no_wait.uuid, "--yes", "--no-wait")
    assert asked.exit_code == 0
    assert asked.stdout.strip() == f"Run {no_wait.uuid} is stopping: stop requested."


def test_stop_asks_first_and_refuses_without_a_terminal(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, statuses=["running"])
    result = cli("ops", "stop", run.uuid)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: not stopping the run without confirmation: stdin is not a terminal; pass --yes to confirm\n"
    )
    assert api_client.runs.get(run.uuid).status.value == "running"


def test_stop_of_a_finished_run_says_so_and_exits_1(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, statuses=["running", "succeeded"])
    result = cli("ops", "stop", run.uuid, "--yes")  # nothing done: exit 1, as any command that did nothing
    assert result.exit_code == 1
    assert result.stderr == f"error: run {run.uuid} has already finished (succeeded): nothing to stop\n"


# -- delete ---------------------------------------------------------------------------------------


def test_delete_refuses_without_confirmation_and_deletes_with_yes(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, settings: Settings
) -> None:
    run = make_run(api_client, statuses=["running", "succeeded"], artifacts={"model.bin": b"weights"})
    run_folder = settings.home / "artifacts" / run.uuid
    assert (run_folder / "model.bin").read_bytes() == b"weights"
    refused = cli("ops", "delete", run.uuid[:6])
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: not deleting the run without confirmation: stdin is not a terminal; pass --yes to confirm\n"
    )
    assert api_client.runs.get(run.uuid).uuid == run.uuid
    deleted = cli("ops", "delete", run.uuid[:6], "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.stdout.strip() == f"Deleted run {run.uuid}."
    with pytest.raises(ApiNotFound):
        api_client.runs.get(run.uuid)
    assert not run_folder.exists()
    again = cli("ops", "delete", run.uuid, "--yes")
    assert (again.exit_code, again.stderr) == (1, f"error: run '{run.uuid}' not found\n")


def test_delete_needs_a_run(cli: Cli) -> None:
    result = cli("ops", "delete")
    assert result.exit_code == 2
    assert "Missing argument 'RUN'" in result.stderr


# -- restart / copy / resume against a server -------------------------------------------------------


def test_restart_on_a_server_creates_the_new_run_and_returns(
    cli: Cli, remote: str, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(
        api_client,
        name="base",
        spec=_job_spec(
            "print(1)", inputs=[{"name": "lr", "type": "float"}, {"name": "epochs", "type": "int"}]
        ),
        params={"lr": 0.1, "epochs": 3},
        statuses=["running", "failed"],
    )
    result = cli("ops", "restart", original.uuid[:8], "-P", "lr=0.5", "--name", "again")
    assert result.exit_code == 0, result.stderr
    newest = api_client.runs.list(sort="-created_at", limit=1).items[0]
    assert newest.uuid != original.uuid
    assert result.stdout.splitlines()[0] == f"Restarted run {original.uuid} as run {newest.uuid} (again)."
    assert f"mizzen ops logs {newest.uuid[:12]} --follow" in result.stdout
    assert (newest.name, newest.original_uuid, newest.cloning_kind) == ("again", original.uuid, "restart")
    assert newest.params == {"lr": "0.5", "epochs": 3}  # -P values are coerced when compiled


def test_copy_takes_the_artifacts_and_resume_reuses_the_run(
    cli: Cli, remote: str, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(
        api_client,
        name="ckpt",
        spec=_job_spec("print(1)"),
        statuses=["running", "stopped"],
        artifacts={"checkpoints/last.pt": b"state"},
    )
    copied = cli("ops", "copy", original.uuid, "--json-not-an-option")
    assert copied.exit_code == 2  # a usage error, shown as one
    assert "No such option: --json-not-an-option" in copied.stderr
    copied = cli("ops", "copy", original.uuid)
    assert copied.exit_code == 0, copied.stderr
    copy = api_client.runs.list(query="cloning_kind:copy").items[0]
    assert [a.path for a in api_client.artifacts.list(copy.uuid)] == ["checkpoints/last.pt"]
    resumed = cli("ops", "resume", original.uuid)
    assert resumed.exit_code == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == f"Resumed run {original.uuid} (ckpt)."
    assert _statuses(api_client, original.uuid)[-1] == "queued"
    refused = cli("ops", "resume", original.uuid)  # queued: not finished
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: a run cannot go from 'queued' to 'resume")


def test_bad_param_overrides_are_refused_before_anything_is_sent(
    cli: Cli, remote: str, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(api_client, statuses=["running", "succeeded"])
    result = cli("ops", "restart", original.uuid, "-P", "lr")
    assert (result.exit_code, result.stderr) == (1, "error: -P 'lr': expected name=value, e.g. -P lr=0.01\n")
    assert api_client.runs.list().count == 1


# -- restart in embedded mode: executed here, watched to its end ------------------------------------


def _job_spec(code: str, inputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": 1.1,
        "kind": "component",
        "name": "greet",
        "inputs": inputs or [{"name": "who", "type": "str", "value": "world", "isOptional": True}],
        "run": {
            "kind": "job",
            "container": {"image": "python:3.12", "command": [sys.executable, "-c", code]},
        },
    }


def test_restart_without_a_server_runs_the_new_run_here(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(
        api_client,
        name="greet",
        spec=_job_spec("print('hello {{ who }}')"),
        executor="local",
        managed=True,
        statuses=["running", "succeeded"],
    )
    result = cli("ops", "restart", original.uuid, "-P", "who=mizzen")
    assert result.exit_code == 0, result.stdout + result.stderr
    new = api_client.runs.list(query="cloning_kind:restart").items[0]
    lines = result.stdout.splitlines()
    assert lines[0] == f"Restarted run {original.uuid} as run {new.uuid} (greet)."
    assert any(line.endswith(" hello mizzen") for line in lines)
    assert lines[-1] == f"Run {new.uuid} succeeded"
    assert api_client.runs.get(new.uuid).status.value == "succeeded"


def test_a_restarted_run_that_fails_exits_1_with_its_reason(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(
        api_client,
        spec=_job_spec("import sys; print('diverged'); sys.exit(3)"),
        executor="local",
        managed=True,
        statuses=["running", "succeeded"],
    )
    result = cli("ops", "restart", original.uuid)
    assert result.exit_code == 1
    new = api_client.runs.list(query="cloning_kind:restart").items[0]
    assert any(line.endswith(" diverged") for line in result.stdout.splitlines())
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f"Run {new.uuid} failed: ") and "exit code 3" in last


def test_detach_without_a_server_only_creates_the_run(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(api_client, spec=_job_spec("print(1)"), statuses=["running", "succeeded"])
    result = cli("ops", "restart", original.uuid, "--detach")
    assert result.exit_code == 0, result.stderr
    assert "It runs once a Mizzen process with the local executor starts" in result.stdout
    new = api_client.runs.list(query="cloning_kind:restart").items[0]
    assert new.status.value == "created"


def test_resume_without_a_server_shows_only_the_new_attempt(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    original = make_run(
        api_client,
        name="greet",
        spec=_job_spec("print('hello {{ who }}')"),
        executor="local",
        managed=True,
        statuses=["running", ("failed", "Failed", "the first attempt broke")],
        logs=["the first attempt's line"],
    )
    result = cli("ops", "resume", original.uuid, "-P", "who=again")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Resumed run {original.uuid} (greet)."
    assert any(line.endswith(" hello again") for line in lines)
    assert "the first attempt" not in result.stdout  # neither its log line nor its failure
    assert lines[-1] == f"Run {original.uuid} succeeded"


def test_a_run_without_a_polyaxonfile_is_not_restarted_into_a_run_that_never_starts(
    cli: Cli, remote: str, api_client: MizzenClient, make_run: MakeRun
) -> None:
    tracked = make_run(api_client, name="notebook", statuses=["running", "succeeded"])  # as tracking.init()
    for how in ("restart", "copy", "resume"):
        result = cli("ops", how, tracked.uuid)
        assert result.exit_code == 1
        assert "has no polyaxonfile to run again" in result.stderr, result.stderr
    assert [run.uuid for run in api_client.runs.list().items] == [tracked.uuid]
