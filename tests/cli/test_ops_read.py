"""`mizzen ops ls | get | statuses | metrics` in embedded mode, over runs written through the real API."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.settings import Settings

Cli = Callable[..., CliResult]
MakeRun = Callable[..., RunRead]


@pytest.fixture
def three_runs(api_client: MizzenClient, make_run: MakeRun) -> list[RunRead]:
    return [
        make_run(
            api_client,
            project="vision",
            name="small",
            params={"lr": 0.1},
            statuses=["running", "succeeded"],
            metrics={"loss": [0.9, 0.5, 0.4], "acc": [0.5, 0.7, 0.8]},
        ),
        make_run(
            api_client,
            project="vision",
            name="large",
            params={"lr": 0.01},
            statuses=["running", ("failed", "Error", "exit code 3")],
            metrics={"loss": [0.8, 0.2]},
        ),
        make_run(api_client, project="text", name="bert", kind="service", statuses=["running"]),
    ]


def test_ls_json_lists_every_project_newest_first(cli: Cli, three_runs: list[RunRead]) -> None:
    result = cli("ops", "ls", "--json")
    assert result.exit_code == 0, result.stderr
    runs = result.json()
    assert [r["name"] for r in runs] == ["bert", "large", "small"]
    first = runs[0]
    assert {"uuid", "name", "project", "kind", "status", "created_at"} <= set(first)
    assert (first["uuid"], first["project"], first["kind"], first["status"]) == (
        three_runs[2].uuid,
        "text",
        "service",
        "running",
    )


def test_ls_filters_by_project_query_and_pages(cli: Cli, three_runs: list[RunRead]) -> None:
    in_vision = cli("ops", "ls", "--project", "vision", "--json").json()
    assert sorted(r["name"] for r in in_vision) == ["large", "small"]
    failed = cli("ops", "ls", "-q", "status:failed", "--json").json()
    assert [r["name"] for r in failed] == ["large"]
    page = cli("ops", "ls", "--sort", "name", "--limit", "1", "--offset", "1", "--json").json()
    assert [r["name"] for r in page] == ["large"]


def test_ls_table_shows_runs_and_metric_columns_when_sorted_by_a_metric(
    cli: Cli, three_runs: list[RunRead]
) -> None:
    result = cli("ops", "ls", "-p", "vision", "-s", "metrics.loss")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header == ["uuid", "name", "kind", "status", "created", "duration", "loss"]
    large, small = lines[1].split(), lines[2].split()  # sorted by loss, ascending
    assert large[:4] == [three_runs[1].uuid[:12], "large", "job", "failed"]
    assert large[-1] == "0.2"
    assert small[:4] == [three_runs[0].uuid[:12], "small", "job", "succeeded"]
    assert small[-1] == "0.4"


def test_ls_metric_filter_and_json_carry_the_summaries(cli: Cli, three_runs: list[RunRead]) -> None:
    runs = cli("ops", "ls", "-q", "metrics.loss:<0.3", "--json").json()
    assert [r["name"] for r in runs] == ["large"]
    assert {m["name"]: m["last"] for m in runs[0]["metrics"]} == {"loss": 0.2}
    table = cli("ops", "ls", "-q", "metrics.acc:>0.1", "-s", "-metrics.loss")
    assert table.stdout.splitlines()[0].split()[-2:] == ["acc", "loss"]


def test_ls_says_when_there_is_nothing_and_pages_are_counted(cli: Cli, three_runs: list[RunRead]) -> None:
    assert cli("ops", "ls", "-p", "nothing-here").stdout.strip() == "No runs in project 'nothing-here'."
    paged = cli("ops", "ls", "--limit", "2")
    assert "Runs 1-2 of 3; --offset 2 for more." in paged.stdout


def test_ls_with_a_bad_query_is_one_clear_error(cli: Cli, three_runs: list[RunRead]) -> None:
    result = cli("ops", "ls", "-q", "colour:red")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: query term 'colour:red': unknown field 'colour'")
    assert "Traceback" not in result.stderr
    bad_sort = cli("ops", "ls", "-s", "colour")
    assert bad_sort.exit_code == 1 and "error: cannot sort by 'colour'" in bad_sort.stderr


def test_ls_defaults_to_the_configured_project(
    cli: Cli, three_runs: list[RunRead], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZZEN_PROJECT", "text")
    assert [r["name"] for r in cli("ops", "ls", "--json").json()] == ["bert"]


def test_get_json_is_the_run_with_params_conditions_and_metrics(cli: Cli, three_runs: list[RunRead]) -> None:
    small = three_runs[0]
    result = cli("ops", "get", small.uuid, "--json")
    assert result.exit_code == 0, result.stderr
    run: dict[str, Any] = result.json()
    assert (run["uuid"], run["name"], run["status"], run["params"]) == (
        small.uuid,
        "small",
        "succeeded",
        {"lr": 0.1},
    )
    assert [c["type"] for c in run["conditions"]] == ["created", "running", "succeeded"]
    summaries = {m["name"]: (m["last"], m["min"], m["max"]) for m in run["metrics"]}
    assert summaries == {"loss": (0.4, 0.4, 0.9), "acc": (0.8, 0.5, 0.8)}
    assert "inputs" in run and "outputs" in run


def test_get_accepts_a_prefix_and_shows_sections(
    cli: Cli, api_client: MizzenClient, three_runs: list[RunRead]
) -> None:
    large = three_runs[1]
    api_client.runs.update(large.uuid, outputs={"accuracy": 0.91})
    result = cli("ops", "get", large.uuid[:8])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].split() == [large.uuid, "large"]
    for section in ("Params", "Outputs", "Metrics", "Statuses"):
        assert section in out
    assert "accuracy" in out and "0.91" in out
    assert "exit code 3" in out  # the failure's message, in the status history


def test_get_without_a_run_picks_the_latest_and_says_so(cli: Cli, three_runs: list[RunRead]) -> None:
    result = cli("ops", "get", "--json")
    assert result.json()["uuid"] == three_runs[2].uuid
    assert f"Using the latest run: {three_runs[2].uuid} (bert, text, service, running)" in result.stderr


def test_get_without_a_run_uses_the_configured_project(
    cli: Cli, three_runs: list[RunRead], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIZZEN_PROJECT", "vision")
    result = cli("ops", "get", "--json")
    assert result.json()["uuid"] == three_runs[1].uuid
    assert "Using the latest run of project 'vision'" in result.stderr
    monkeypatch.setenv("MIZZEN_PROJECT", "empty")
    empty = cli("ops", "get")
    assert empty.exit_code == 1
    assert empty.stderr.startswith("error: project 'empty' has no runs yet: give a run uuid")


def test_unknown_short_and_full_uuids_are_clear_errors(cli: Cli, three_runs: list[RunRead]) -> None:
    short = cli("ops", "get", "abc")
    assert short.exit_code == 1
    assert short.stderr == (
        "error: run 'abc' not found: give the run's uuid, or at least its first 4 characters\n"
    )
    prefix = cli("ops", "get", "ffffffff")
    assert (prefix.exit_code, prefix.stderr) == (1, "error: run 'ffffffff' not found\n")
    full = "0" * 32
    missing = cli("ops", "get", full)
    assert (missing.exit_code, missing.stderr) == (1, f"error: run '{full}' not found\n")
    not_hex = cli("ops", "statuses", "my-run!")
    assert not_hex.exit_code == 1 and "run 'my-run!' not found" in not_hex.stderr


def test_an_ambiguous_prefix_lists_the_candidates(
    cli: Cli, api_client: MizzenClient, make_run: MakeRun, settings: Settings
) -> None:
    first, second, third = (make_run(api_client, project="many", name=f"r{i}") for i in range(3))
    # uuids are random: give two runs a common beginning in the store itself.
    with sqlite3.connect(settings.home / "mizzen.db") as db:
        db.execute("UPDATE runs SET uuid = ? WHERE uuid = ?", ("abcd1" + first.uuid[5:], first.uuid))
        db.execute("UPDATE runs SET uuid = ? WHERE uuid = ?", ("abcd2" + second.uuid[5:], second.uuid))
    result = cli("ops", "get", "ABCD")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 'ABCD' is ambiguous: 2 runs start with it; give more characters:"
    assert lines[1:] == [
        f"  abcd2{second.uuid[5:]} (r1, many, job, created)",
        f"  abcd1{first.uuid[5:]} (r0, many, job, created)",
    ]
    picked = cli("ops", "get", "abcd-1", "--json")  # dashes and case do not matter
    assert picked.json()["uuid"] == "abcd1" + first.uuid[5:]
    assert cli("ops", "get", third.uuid[:10], "--json").json()["name"] == "r2"


def test_statuses_show_reasons_and_messages(cli: Cli, three_runs: list[RunRead]) -> None:
    large = three_runs[1]
    conditions = cli("ops", "statuses", large.uuid, "--json").json()
    assert [(c["type"], c["reason"], c["message"]) for c in conditions][-1] == (
        "failed",
        "Error",
        "exit code 3",
    )
    table = cli("ops", "statuses", large.uuid[:6]).stdout.splitlines()
    assert table[0].split() == ["time", "status", "reason", "message"]
    assert table[-1].split()[1:] == ["failed", "Error", "exit", "code", "3"]


def test_metrics_summaries_and_one_history(cli: Cli, three_runs: list[RunRead]) -> None:
    small = three_runs[0]
    summaries = cli("ops", "metrics", small.uuid, "--json").json()
    assert sorted(m["name"] for m in summaries) == ["acc", "loss"]
    history = cli("ops", "metrics", small.uuid, "loss", "--json").json()
    assert (history["steps"], history["values"]) == ([0, 1, 2], [0.9, 0.5, 0.4])
    table = cli("ops", "metrics", small.uuid, "loss").stdout.splitlines()
    assert table[0].strip() == "loss"
    assert [row.split()[0] for row in table[2:]] == ["0", "1", "2"]
    assert [row.split()[-1] for row in table[2:]] == ["0.9", "0.5", "0.4"]
    none = cli("ops", "metrics", three_runs[2].uuid)
    assert none.stdout.strip() == f"Run {three_runs[2].uuid} has no metrics yet."
