"""A hook whose delivery fails is never silent: `mizzen run` says what it waits for and for how
long, shows each attempt with the reason it failed (the HTTP status, a refused connection), and
`mizzen ops get RUN` shows the deliveries. The real CLI in its own process, real notifier runs, a
real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hooks_support import receiver
from mizzen.settings import Settings

Mizzen = Callable[..., subprocess.CompletedProcess[str]]


def _job_with_hook(write: Callable[[str, str], Path], url: str) -> Path:
    return write(
        "job_with_hook.yaml",
        f"""
        version: 1.1
        kind: operation
        name: hooked
        hooks:
        - hubRef: webhook
          params:
            url: {{value: "{url}"}}
        component:
          run:
            kind: job
            container: {{image: python, command: [{sys.executable}, -c, "print('trained')"]}}
        """,
    )


def _the_run(run_mizzen: Mizzen) -> dict:
    listed = run_mizzen("ops", "ls", "--json", "-q", "kind:job")
    assert listed.returncode == 0, listed.stderr
    [job] = json.loads(listed.stdout)
    return dict(job)


def test_failed_attempts_are_shown_with_the_http_status_then_the_delivery(
    settings: Settings, run_mizzen: Mizzen, write: Callable[[str, str], Path]
) -> None:
    with receiver(answers=[503, 503]) as http:
        result = run_mizzen("run", "-f", str(_job_with_hook(write, http.url)))
        assert result.returncode == 0, result.stderr
        assert len(http.delivered()) == 1
    err = result.stderr
    assert "hooks: waiting up to 60s for the hook deliveries of run" in err, err
    assert err.count(f"{http.url} answered 503: busy; retrying, next attempt in") == 2, err
    assert "hook 0 (webhook, on done): delivered" in err, err

    uuid = _the_run(run_mizzen)["uuid"]
    shown = run_mizzen("ops", "get", uuid)
    assert shown.returncode == 0, shown.stderr
    hooks = shown.stdout.split("Hooks", 1)[1]
    [row] = [line for line in hooks.splitlines() if line.startswith("0 webhook")]
    assert row.split()[:5] == ["0", "webhook", "done", "delivered", "3"], hooks


def test_a_refused_connection_is_shown_and_the_wait_is_bounded(
    settings: Settings, run_mizzen: Mizzen, write: Callable[[str, str], Path]
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    result = run_mizzen("run", "-f", str(_job_with_hook(write, url)), env={"MIZZEN_HOOKS_WAIT_SECONDS": "4"})
    assert result.returncode == 0, result.stderr  # the run itself succeeded
    err = result.stderr
    assert "hooks: waiting up to 4s for the hook deliveries of run" in err, err
    assert f"cannot reach {url}: [Errno 111] Connection refused; retrying" in err, err
    assert "hooks: still under way after 4s (hook 0 (webhook, on done): " in err, err
    assert "the next `mizzen run` or `mizzen server` on this store goes on delivering them" in err

    shown = run_mizzen("ops", "get", _the_run(run_mizzen)["uuid"])
    assert shown.returncode == 0, shown.stderr
    hooks = " ".join(shown.stdout.split("Hooks", 1)[1].split())  # the outcome cell folds
    assert "Connection refused" in hooks, hooks
