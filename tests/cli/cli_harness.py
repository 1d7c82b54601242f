"""The CLI test harness (imported by tests/cli/conftest.py and the tests): run `mizzen ...` in this
process through the real entry point's error handling, and make runs through the real API."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from typer.testing import CliRunner

from mizzen.client import MizzenClient
from mizzen.schemas.api import LogLine, MetricPoint, RunRead

WIDE_TERMINAL = "250"  # rich tables would fold long cells at the default 80 columns of a pipe


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def invoke(*args: str, input: str | None = None) -> CliResult:
    from mizzen.cli.errors import run_app
    from mizzen.cli.main import _register, app

    _register()
    runner = CliRunner()
    saved_argv = sys.argv
    with runner.isolation(input=input) as (out, err, _mixed):
        sys.argv = ["mizzen", *args]
        try:
            code = run_app(app)
        finally:
            sys.argv = saved_argv
            sys.stdout.flush()
            sys.stderr.flush()
        return CliResult(code, out.getvalue().decode(), err.getvalue().decode())


def make_run(
    client: MizzenClient,
    *,
    statuses: Sequence[str | tuple[str, str, str]] = (),
    metrics: Mapping[str, Sequence[float]] | None = None,
    logs: Sequence[str | tuple[str, str]] = (),
    artifacts: Mapping[str, bytes] | None = None,
    **fields: Any,
) -> RunRead:
    """A run created through the API, then moved through ``statuses`` (a name, or (name, reason,
    message)), with metric values at steps 0.., log lines (text, or (container, text)) and files."""
    fields.setdefault("managed", False)  # no executor ever claims it
    run = client.runs.create(**fields)
    for status in statuses:
        name, reason, message = (status, None, None) if isinstance(status, str) else status
        client.statuses.set(run.uuid, name, reason=reason, message=message)
    now = time.time()
    points = [
        MetricPoint(name=name, value=value, step=step, timestamp=now + step)
        for name, values in (metrics or {}).items()
        for step, value in enumerate(values)
    ]
    if points:
        client.metrics.log(run.uuid, points)
    if logs:
        lines = [
            LogLine(timestamp=now + i, line=item, container="main")
            if isinstance(item, str)
            else LogLine(timestamp=now + i, container=item[0], line=item[1])
            for i, item in enumerate(logs)
        ]
        client.logs.append(run.uuid, lines)
    for path, data in (artifacts or {}).items():
        client.artifacts.upload_bytes(run.uuid, data, path)
    return client.runs.get(run.uuid)
