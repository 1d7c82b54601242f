"""`mizzen ops get SWEEP --metric NAME` with a metric no trial logged warns, naming the metrics the
trials did log (and the closest one); a metric they logged ranks them without a warning."""

from __future__ import annotations

from collections.abc import Callable

from cli_harness import CliResult

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead


def _sweep(client: MizzenClient, make_run: Callable[..., RunRead]) -> str:
    sweep = make_run(client, kind="matrix", name="tune")
    for loss in (0.3, 0.1):
        make_run(
            client,
            name="trial",
            pipeline_uuid=sweep.uuid,
            statuses=["running", "succeeded"],
            metrics={"loss": [loss], "accuracy": [1 - loss]},
        )
    return sweep.uuid


def test_an_unknown_metric_warns_with_the_metrics_the_trials_logged(
    cli: Callable[..., CliResult], api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    uuid = _sweep(api_client, make_run)
    for extra in ((), ("--json",)):
        result = cli("ops", "get", uuid[:8], "--metric", "los", *extra)
        assert result.exit_code == 0, result.stderr
        warning = " ".join(result.stderr.split())
        assert (
            f"warning: no trial of {uuid[:12]} has logged metric 'los' (did you mean 'loss'?): "
            "nothing is ranked by it; the metrics its trials logged: accuracy, loss"
        ) in warning, warning

    known = cli("ops", "get", uuid[:8], "--metric", "loss")
    assert known.exit_code == 0, known.stderr
    assert "warning" not in known.stderr
    assert "best loss=0.1 (minimize)" in known.stdout


def test_a_sweep_whose_trials_logged_nothing_says_so(
    cli: Callable[..., CliResult], api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    sweep = make_run(api_client, kind="matrix", name="tune")
    make_run(api_client, name="trial", pipeline_uuid=sweep.uuid)
    result = cli("ops", "get", sweep.uuid[:8], "--metric", "loss")
    assert result.exit_code == 0, result.stderr
    assert "none of its trials has logged a metric yet" in " ".join(result.stderr.split())
