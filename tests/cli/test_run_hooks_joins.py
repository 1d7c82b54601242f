"""`mizzen run` of polyaxonfiles with hooks and joins, end to end: the real CLI in its own process,
real jobs, a real store, a real HTTP server on loopback receiving the notification."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hooks_support import receiver
from mizzen.settings import Settings

Mizzen = Callable[..., subprocess.CompletedProcess[str]]


def _ops_get(run_mizzen: Mizzen, uuid: str) -> dict:
    result = run_mizzen("ops", "get", uuid, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _runs(run_mizzen: Mizzen, *args: str) -> list[dict]:
    result = run_mizzen("ops", "ls", "--json", "-l", "100", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_mizzen_run_of_a_job_with_a_hook_notifies_the_webhook(
    settings: Settings, run_mizzen: Mizzen, write: Callable[[str, str], Path]
) -> None:
    with receiver() as http:
        path = write(
            "job_with_hook.yaml",
            f"""
            version: 1.1
            kind: component
            name: trainer
            outputs:
            - {{name: loss, type: float, isOptional: true}}
            hooks:
            - hubRef: webhook
              trigger: succeeded
              params:
                url: {{value: "{http.url}"}}
            run:
              kind: job
              container:
                image: python
                command: [{sys.executable}, -c, "print('trained')"]
            """,
        )
        result = run_mizzen("run", "-f", str(path))
        assert result.returncode == 0, result.stderr
        [body] = http.delivered()  # delivered before `mizzen run` returned
        job = next(run for run in _runs(run_mizzen) if run["kind"] == "job")
        assert body["run"]["uuid"] == job["uuid"]
        assert body["run"]["status"] == "succeeded"
        [delivery] = _ops_get(run_mizzen, job["uuid"])["meta"]["hooks"]["deliveries"]
        assert (delivery["state"], delivery["attempts"]) == ("delivered", 1)
        notifier = _ops_get(run_mizzen, delivery["notifier"])
        assert (notifier["kind"], notifier["parent_uuid"], notifier["status"]) == (
            "notifier",
            job["uuid"],
            "succeeded",
        )
