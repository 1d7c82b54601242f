"""A run tracked with no server, uploaded later with `mizzen ops sync`: on the server it is the same
run the script knew — its uuid, its name, and when each point and status happened, not when the
journal was uploaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tracking_helpers import only_run_dir, run_script, script_env

from mizzen.client import MizzenClient
from mizzen.settings import Settings

TRAINING = """
    import json, time
    from mizzen import tracking
    before = time.time()
    run = tracking.init(project="offline", name="on-a-plane")
    for step in range(5):
        tracking.log_metric("loss", 1.0 / (step + 1), step=step)
    tracking.end()
    print(json.dumps({"uuid": run.uuid, "before": before, "after": time.time()}), flush=True)
"""


@pytest.fixture
def server(
    db_url: str, settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[str]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"database_url": db_url}))
    try:
        with serve_app(app) as url:
            yield url
    finally:
        app.state.services.close()


def _moment(value: datetime) -> float:
    assert value.tzinfo is not None
    return value.astimezone(UTC).timestamp()


def test_sync_keeps_the_uuid_the_name_and_when_things_happened(server: str, tmp_path: Path) -> None:
    home = tmp_path / "offline-home"
    done = run_script(TRAINING, {"MIZZEN_HOME": str(home)}, tmp_path)  # no server: all journaled
    assert done.returncode == 0, done.stderr
    offline = json.loads(done.stdout.strip().splitlines()[-1])
    run_dir = only_run_dir(home)

    mizzen = Path(sys.executable).parent / "mizzen"
    synced = subprocess.run(
        [str(mizzen), "ops", "sync", "--path", str(run_dir), "--json"],
        env=script_env(MIZZEN_HOME=str(home), MIZZEN_HOST=server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert json.loads(synced.stdout)["run"] == offline["uuid"]  # the uuid the script was given

    # Everything happened while the script ran, which ended before the sync began.
    window = (offline["before"], offline["after"])
    with MizzenClient(server) as client:
        run = client.runs.get(offline["uuid"])
        assert (run.project, run.name, run.managed, run.status.value) == (
            "offline",
            "on-a-plane",
            False,
            "succeeded",
        )
        assert window[0] <= _moment(run.created_at) <= window[1]
        conditions = client.statuses.list(offline["uuid"])
        assert [c.type.value for c in conditions] == ["created", "running", "succeeded"]
        for condition in conditions:
            assert window[0] <= _moment(condition.time) <= window[1], condition
        assert run.started_at == conditions[1].time and run.finished_at == conditions[2].time
        history = client.metrics.history(offline["uuid"], "loss")
        assert history.steps == [0, 1, 2, 3, 4]
        assert all(window[0] <= moment <= window[1] for moment in history.timestamps), history.timestamps

    again = subprocess.run(
        [str(mizzen), "ops", "sync", offline["uuid"], "--json"],
        env=script_env(MIZZEN_HOME=str(home), MIZZEN_HOST=server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert (json.loads(again.stdout)["run"], json.loads(again.stdout)["entries"]) == (offline["uuid"], 0)
