"""A service stopped on purpose (`mizzen ops stop`) ends `mizzen run` normally: exit 0, and it says so.
Real CLI processes, a real service process, the real store."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from test_run import MIZZEN, home, mizzen, ops_get, write

__all__ = ["home"]


def test_stopping_a_service_is_its_normal_end(home: Path, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    spec = write(
        tmp_path,
        "service.yaml",
        f"""
        version: 1.1
        kind: component
        name: web
        run:
          kind: service
          ports: [8000]
          container:
            image: x
            command: ["sh", "-c", "echo serving; touch {ready}; sleep 300"]
        """,
    )
    watcher = subprocess.Popen(
        [MIZZEN, "run", "-f", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert time.monotonic() < deadline, "the service never started"
            assert watcher.poll() is None, watcher.communicate()
            time.sleep(0.1)
        uuid = json.loads(mizzen("ops", "ls", "--json").stdout)[0]["uuid"]
        stop = mizzen("ops", "stop", uuid, "--yes")
        assert stop.returncode == 0, stop.stderr
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, out + err
    assert "✓ run web stopped" in out and "stopping is a service's normal end" in out
    assert ops_get(uuid)["status"] == "stopped"
