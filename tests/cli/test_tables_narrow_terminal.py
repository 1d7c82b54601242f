"""At COLUMNS=80 the tables of `ops ls` and `ops get` of a sweep keep one line per run: names and
params are cut with "…", and uuids, statuses and times are never folded across lines. The real
`mizzen` in its own process (rich reads COLUMNS when it starts)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead

Mizzen = Callable[..., subprocess.CompletedProcess[str]]
NARROW = {"COLUMNS": "80"}
PARAMS = {
    "learning_rate_of_the_optimizer": 0.001,
    "batch_size_per_device": 32,
    "optimizer_name": "adamw_with_linear_warmup",
    "dropout_probability": 0.1,
    "weight_decay_coefficient": 0.0001,
}


def _rows(output: str, uuids: list[str]) -> list[str]:
    lines = output.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(line for line in lines if len(line) > 80)
    return [line for line in lines if any(uuid[:12] in line for uuid in uuids)]


def test_ls_and_get_of_a_sweep_keep_one_line_per_run_at_80_columns(
    run_mizzen: Mizzen, api_client: MizzenClient, make_run: Callable[..., RunRead]
) -> None:
    name = "a-rather-long-sweep-name-that-no-narrow-terminal-can-show-whole"
    sweep = make_run(api_client, kind="matrix", name=name, statuses=["running"])
    trials = [
        make_run(
            api_client,
            name=f"{name}-{i}",
            pipeline_uuid=sweep.uuid,
            params=PARAMS,
            statuses=["running", "succeeded"],
            metrics={"loss": [0.5 - i / 10]},
        ).uuid
        for i in range(3)
    ]
    for args in (("ops", "ls"), ("ops", "ls", "-q", f"pipeline:{sweep.uuid[:8]}", "-s", "metrics.loss")):
        listed = run_mizzen(*args, env=NARROW)
        assert listed.returncode == 0, listed.stderr
        rows = _rows(listed.stdout, [*trials, sweep.uuid])
        assert len(rows) == len(trials) + (1 if args == ("ops", "ls") else 0), listed.stdout
        assert all("succeeded" in row or "running" in row for row in rows), listed.stdout
        assert all(row.split()[0] in {u[:12] for u in [*trials, sweep.uuid]} for row in rows)

    shown = run_mizzen("ops", "get", sweep.uuid[:8], "--metric", "loss", env=NARROW)
    assert shown.returncode == 0, shown.stderr
    table = shown.stdout.split("trials, best loss first", 1)[1]
    rows = _rows(table, trials)
    assert len(rows) == len(trials), table
    for row, uuid in zip(rows, reversed(trials), strict=True):  # the best (lowest loss) first
        cells = row.replace("★", "").split()
        assert cells[0] == uuid[:12] and "succeeded" in cells, row
        assert "…" in row  # the params and names were cut to fit, not folded onto more lines
