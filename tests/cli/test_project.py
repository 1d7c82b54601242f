"""`mizzen project create | ls | get | delete`, in embedded mode and against a server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_harness import CliResult

from mizzen.client import ApiNotFound, MizzenClient
from mizzen.schemas.api import RunRead

Cli = Callable[..., CliResult]
MakeRun = Callable[..., RunRead]


def test_create_ls_get_in_embedded_mode(cli: Cli) -> None:
    created = cli("project", "create", "mnist", "-d", "digits, small CNNs", "-t", "cv", "--json")
    assert created.exit_code == 0, created.stderr
    assert (created.json()["name"], created.json()["description"], created.json()["tags"]) == (
        "mnist",
        "digits, small CNNs",
        ["cv"],
    )
    assert cli("project", "create", "scratch").stdout.strip() == "Created project scratch."
    listed = cli("project", "ls", "--json").json()
    assert sorted(p["name"] for p in listed) == ["mnist", "scratch"]
    table = cli("project", "ls").stdout.splitlines()
    assert table[0].split() == ["name", "runs", "created", "description"]
    mnist_row = next(row for row in table if row.startswith("mnist"))
    assert mnist_row.split()[1] == "0" and mnist_row.rstrip().endswith("digits, small CNNs")
    got = cli("project", "get", "mnist", "--json").json()
    assert (got["name"], got["runs_count"]) == ("mnist", 0)


def test_create_refuses_duplicates_and_bad_names(cli: Cli) -> None:
    assert cli("project", "create", "mnist").exit_code == 0
    again = cli("project", "create", "mnist")
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ") and "mnist" in again.stderr and "exists" in again.stderr
    bad = cli("project", "create", "My Project")
    assert bad.exit_code == 1
    assert bad.stderr == (
        "error: 'My Project' is not a valid project name: lowercase letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit (at most 128 characters)\n"
    )


def test_get_shows_the_latest_runs(cli: Cli, api_client: MizzenClient, make_run: MakeRun) -> None:
    runs = [make_run(api_client, project="vision", name=f"trial-{i}") for i in range(7)]
    result = cli("project", "get", "vision")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].strip() == "vision"
    assert "runs         7" in out
    shown = [run.name for run in runs if run.uuid[:12] in out]
    assert shown == [f"trial-{i}" for i in range(2, 7)]  # the 5 most recent


def test_unknown_project_is_one_clear_error(cli: Cli) -> None:
    result = cli("project", "get", "nope")
    assert (result.exit_code, result.stderr) == (1, "error: project 'nope' not found\n")
    assert cli("project", "delete", "nope", "--yes").stderr == "error: project 'nope' not found\n"


def test_delete_asks_then_deletes_the_project_and_its_runs(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun
) -> None:
    run = make_run(api_client, project="scratch")
    refused = cli("project", "delete", "scratch")
    assert refused.exit_code == 1
    assert "not deleting the project without confirmation" in refused.stderr
    assert api_client.projects.get("scratch").runs_count == 1
    deleted = cli("project", "delete", "scratch", "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert deleted.stdout.strip() == "Deleted project scratch (1 run(s))."
    with pytest.raises(ApiNotFound):
        api_client.runs.get(run.uuid)


def test_project_commands_against_a_server(
    cli: Cli, api_server: str, api_client: MizzenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZZEN_HOST", api_server)
    assert cli("project", "create", "remote-one").exit_code == 0
    assert api_client.projects.get("remote-one").name == "remote-one"
    assert [p["name"] for p in cli("project", "ls", "--json").json()] == ["remote-one"]
