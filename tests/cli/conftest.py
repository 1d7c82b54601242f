"""Fixtures for CLI tests: run `mizzen ...` in this process (through the same error handling as the
real entry point) or as a subprocess, in embedded mode over the test's MIZZEN_HOME, and fill that
home with runs through the real API.

- ``cli("ops", "ls", "--json")`` -> ``CliResult`` (exit_code, stdout, stderr, ``.json()``).
- ``mizzen_bin``: the installed ``mizzen`` script, for subprocess tests.
- ``api_client``: a ``MizzenClient`` of the API served over the same home as the CLI
  (``api_server`` from tests/conftest.py): what it writes, embedded CLI commands read.
- ``make_run(client, **RunCreate fields, statuses=[...], metrics={...}, logs=[...], artifacts={...})``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from cli_harness import WIDE_TERMINAL, CliResult, invoke
from cli_harness import make_run as make_run_through_api

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.settings import Settings


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Runs the CLI in this process with MIZZEN_HOME in tmp_path (embedded mode unless the test sets
    MIZZEN_HOST). stdin is not a terminal: confirmations need --yes."""
    monkeypatch.setenv("COLUMNS", WIDE_TERMINAL)
    return invoke


@pytest.fixture
def mizzen_bin() -> Path:
    script = Path(sys.executable).parent / "mizzen"
    assert script.is_file(), f"the mizzen script is not installed next to {sys.executable}"
    return script


@pytest.fixture
def run_mizzen(settings: Settings, mizzen_bin: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_mizzen("ops", "ls", env={...})``: the real command in its own process."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "COLUMNS": WIDE_TERMINAL, **(env or {})}
        return subprocess.run(
            [str(mizzen_bin), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def api_client(api_server: str) -> Iterator[MizzenClient]:
    with MizzenClient(api_server) as client:
        yield client


@pytest.fixture
def make_run() -> Callable[..., RunRead]:
    return make_run_through_api
