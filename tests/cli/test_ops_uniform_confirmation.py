"""`mizzen ops stop | delete | invalidate | approve | restart` of a pipeline follow one rule: the
commands that end or drop something ask first unless `--yes`/`-y` (and refuse without a terminal);
exit 0 when done, 1 with a message on stderr when nothing was done; their --help says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead

Cli = Callable[..., CliResult]


def _sweep(client: MizzenClient, make_run: Callable[..., RunRead]) -> RunRead:
    sweep = make_run(client, kind="matrix", name="tune", statuses=["queued"])  # nothing runs it:
    make_run(client, name="trial", pipeline_uuid=sweep.uuid, statuses=["queued"])  # a stop is at once
    return sweep


@pytest.mark.parametrize(
    ("command", "action"), [("stop", "stopping"), ("delete", "deleting"), ("invalidate", "invalidating")]
)
def test_each_asking_command_refuses_without_yes_and_changes_nothing(
    cli: Cli, api_client: MizzenClient, make_run: Callable[..., RunRead], command: str, action: str
) -> None:
    sweep = _sweep(api_client, make_run)
    result = cli("ops", command, sweep.uuid[:8])
    assert result.exit_code == 1, result.stdout
    assert result.stderr == (
        f"error: not {action} the run without confirmation: stdin is not a terminal; pass --yes to confirm\n"
    )
    assert api_client.runs.get(sweep.uuid).status.value == "queued"


def test_done_exits_0_and_nothing_done_exits_1_with_why(
    cli: Cli, api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    sweep = _sweep(api_client, make_run)
    short = sweep.uuid[:8]

    approve = cli("ops", "approve", short)  # never held
    assert approve.exit_code == 1 and "is not waiting for approval" in approve.stderr
    invalidate = cli("ops", "invalidate", short, "-y")
    assert invalidate.exit_code == 1
    assert f"error: run {sweep.uuid} is not in the cache" in invalidate.stderr
    assert "nothing to invalidate" in invalidate.stderr
    restart = cli("ops", "restart", short)  # made through the API: no polyaxonfile to run again
    assert restart.exit_code == 1 and "cannot restart this run" in restart.stderr

    stop = cli("ops", "stop", short, "-y")
    assert stop.exit_code == 0, stop.stderr
    assert f"Run {sweep.uuid} stopped." in stop.stdout
    again = cli("ops", "stop", short, "--yes")
    assert again.exit_code == 1
    assert again.stderr == f"error: run {sweep.uuid} has already finished (stopped): nothing to stop\n"

    delete = cli("ops", "delete", short, "-y")
    assert delete.exit_code == 0, delete.stderr
    assert f"Deleted run {sweep.uuid} and its runs." in delete.stdout
    assert cli("ops", "ls", "--json").json() == []


@pytest.mark.parametrize("command", ["stop", "delete", "invalidate"])
def test_the_help_of_each_asking_command_names_yes_and_its_exit_codes(cli: Cli, command: str) -> None:
    shown = " ".join(cli("ops", command, "--help").stdout.split())
    assert "--yes" in shown and "-y" in shown and "Asks first unless --yes/-y" in shown
    assert "Exit code 0" in shown and "1 when refused" in shown and "cancelled" in shown


@pytest.mark.parametrize("command", ["approve", "restart"])
def test_the_help_of_the_commands_that_never_ask_says_so(cli: Cli, command: str) -> None:
    shown = " ".join(cli("ops", command, "--help").stdout.split())
    assert "Does not ask (nothing is lost)" in shown and "Exit code 0" in shown
    group = " ".join(cli("ops", "--help").stdout.split())
    assert "ask first, unless --yes/-y" in group and "exits 0 when it did what it was asked" in group
