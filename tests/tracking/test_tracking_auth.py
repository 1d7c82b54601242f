"""A server that wants a token: the client sends it, tracking keeps the journal when it is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tracking_helpers import journal_entries, only_run_dir, run_script
from tracking_server import ApiProcess

from mizzen.client import ApiRequestError, MizzenClient
from mizzen.tracking import sync_journal

TRAINING = """
    from mizzen import tracking
    tracking.init(project="secured", name="t")
    for step in range(30):
        tracking.log_metric("loss", 1.0 / (step + 1), step=step)
"""


@pytest.fixture
def secured_api(tmp_path: Path) -> Iterator[ApiProcess]:
    server = ApiProcess(tmp_path / "server-home", token="s3cret")
    server.start()
    yield server
    server.kill()


def test_the_client_sends_its_bearer_token(secured_api: ApiProcess) -> None:
    with MizzenClient(secured_api.url) as anonymous, pytest.raises(ApiRequestError) as refused:
        anonymous.runs.list()
    assert refused.value.status_code == 401
    assert "bearer token" in str(refused.value)
    with MizzenClient(secured_api.url, token="s3cret") as client:
        assert client.runs.list().count == 0


def test_tracking_uploads_with_the_token_from_the_environment(
    secured_api: ApiProcess, tmp_path: Path
) -> None:
    env = {"MIZZEN_HOME": str(tmp_path / "home"), "MIZZEN_HOST": secured_api.url, "MIZZEN_TOKEN": "s3cret"}
    done = run_script(TRAINING, env, tmp_path)
    assert done.returncode == 0, done.stderr
    with MizzenClient(secured_api.url, token="s3cret") as client:
        (run,) = client.runs.list(project="secured").items
        assert client.metrics.history(run.uuid, "loss").steps == list(range(30))


def test_a_refused_token_keeps_everything_in_the_journal_for_a_later_sync(
    secured_api: ApiProcess, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {"MIZZEN_HOME": str(home), "MIZZEN_HOST": secured_api.url, "MIZZEN_TOKEN": "wrong"}
    done = run_script(TRAINING, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a valid bearer token is required" in done.stderr
    assert "everything stays in the journal" in done.stderr
    run_dir = only_run_dir(home)
    assert sum(1 for e in journal_entries(run_dir) if e["t"] == "m") == 30

    with MizzenClient(secured_api.url, token="s3cret") as client:
        report = sync_journal(run_dir, client)
        assert report.metrics == 30
        run = client.runs.get(report.run_uuid)
        assert (run.project, run.name, run.status) == ("secured", "t", "succeeded")
