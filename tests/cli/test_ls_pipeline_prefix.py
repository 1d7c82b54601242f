"""`mizzen ops ls -q "pipeline:PREFIX"` (and `pipeline_uuid:PREFIX`) accept a unique prefix of the
pipeline's uuid, as `ops get` accepts a short uuid; an ambiguous or unknown prefix is a clear error."""

from __future__ import annotations

from collections.abc import Callable

from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead

FIRST = "abcd1111" + "0" * 24
SECOND = "abcd2222" + "0" * 24


def _two_sweeps(client: MizzenClient, make_run: Callable[..., RunRead]) -> dict[str, set[str]]:
    trials: dict[str, set[str]] = {}
    for uuid in (FIRST, SECOND):
        make_run(client, uuid=uuid, kind="matrix", name=f"sweep-{uuid[4]}")
        trials[uuid] = {make_run(client, name="trial", pipeline_uuid=uuid).uuid for _ in range(2)}
    make_run(client, uuid="abcd3333" + "0" * 24, name="not-a-pipeline")  # shares the prefix; no pipeline
    return trials


def test_a_unique_prefix_selects_the_pipelines_runs(
    cli: Callable[..., CliResult], api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    trials = _two_sweeps(api_client, make_run)
    for field, prefix, uuid in (("pipeline", "abcd1", FIRST), ("pipeline_uuid", "ABCD-2222", SECOND)):
        result = cli("ops", "ls", "-q", f"{field}:{prefix}", "--json")
        assert result.exit_code == 0, result.stderr
        assert {run["uuid"] for run in result.json()} == trials[uuid]
    combined = cli("ops", "ls", "-q", "status:created, pipeline:abcd1", "--json")
    assert combined.exit_code == 0, combined.stderr
    assert {run["uuid"] for run in combined.json()} == trials[FIRST]
    negated = cli("ops", "ls", "-q", "pipeline:~abcd1,kind:job", "--json")
    assert {run["uuid"] for run in negated.json()} >= trials[SECOND]
    assert not {run["uuid"] for run in negated.json()} & trials[FIRST]


def test_an_ambiguous_or_unknown_prefix_is_refused_naming_the_candidates(
    cli: Callable[..., CliResult], api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    _two_sweeps(api_client, make_run)
    ambiguous = cli("ops", "ls", "-q", "pipeline:abcd")
    assert ambiguous.exit_code != 0
    assert "query term 'pipeline:abcd' is ambiguous: 2 pipelines start with 'abcd'" in ambiguous.stderr
    assert FIRST in ambiguous.stderr and SECOND in ambiguous.stderr
    unknown = cli("ops", "ls", "-q", "pipeline_uuid:abcd3")
    assert unknown.exit_code != 0
    assert "no pipeline (sweep, DAG, schedule) uuid starts with 'abcd3'" in unknown.stderr
    short = cli("ops", "ls", "-q", "pipeline:ab")
    assert short.exit_code != 0 and "at least its first 4 characters" in short.stderr
