"""`mizzen server` as a user types it: listening beyond loopback needs a token or --insecure."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEADLINE = 120.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    return env | {"MIZZEN_HOME": str(tmp_path / "home")} | extra


def _serves(argv: list[str], env: dict[str, str], port: int, headers: dict[str, str]) -> int:
    """Start the server, wait (polling) until it answers, return the status of GET /runs; then stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mizzen", "server", *argv, "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            try:
                return httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/runs", headers=headers, timeout=5
                ).status_code
            except httpx.TransportError:
                time.sleep(0.2)  # polling for the port to open, not synchronising on time
        raise AssertionError("the server did not answer in time")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=DEADLINE)


def test_every_interface_without_a_token_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mizzen", "server", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=_env(tmp_path), capture_output=True, text=True, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "refusing to listen on 0.0.0.0 without a token" in output
    assert "--insecure" in output and "MIZZEN_TOKEN" in output


def test_a_token_or_insecure_lets_it_listen(tmp_path: Path) -> None:
    port = _free_port()
    secured = _serves(["--host", "0.0.0.0"], _env(tmp_path, MIZZEN_TOKEN="s3cret"), port, {})
    assert secured == 401  # listening, and asking for the token
    port = _free_port()
    assert _serves(["--host", "0.0.0.0", "--insecure"], _env(tmp_path), port, {}) == 200


def test_loopback_needs_nothing(tmp_path: Path) -> None:
    assert _serves(["--host", "127.0.0.1"], _env(tmp_path), _free_port(), {}) == 200
