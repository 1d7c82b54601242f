"""What the pages are fed: a project's runs by status (one query, SQLite and PostgreSQL), chart data
downsampled to the chart's width, and the "why" of a run taken from its recorded statuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mizzen.schemas.api import RunRead, StatusCondition
from mizzen.settings import Settings


@pytest.fixture
def app_on_each_db(settings: Settings, db_url: str, serve_app: Any) -> Iterator[tuple[str, Any]]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"database_url": db_url}))
    try:
        with serve_app(app) as base:
            yield base, app
    finally:
        app.state.services.close()


def _run(base: str, project: str, *statuses: str) -> str:
    uuid: str = httpx.post(f"{base}/api/v1/runs", json={"project": project, "managed": False}).json()["uuid"]
    for status in statuses:
        assert httpx.post(f"{base}/api/v1/runs/{uuid}/statuses", json={"status": status}).status_code == 200
    return uuid


def test_projects_count_their_runs_by_status_with_the_last_activity(app_on_each_db: tuple[str, Any]) -> None:
    base, app = app_on_each_db
    httpx.post(f"{base}/api/v1/projects", json={"name": "empty"})
    _run(base, "busy", "queued", "running")
    _run(base, "busy", "queued", "running", "succeeded")
    _run(base, "busy", "queued", "running", "succeeded")
    last = _run(base, "busy", "queued", "running", "failed")
    activity = {p.name: p for p in app.state.services.projects.activity()}
    assert activity["empty"].runs_by_status == {} and activity["empty"].last_activity is None
    assert activity["busy"].runs_by_status == {"running": 1, "succeeded": 2, "failed": 1}
    updated = httpx.get(f"{base}/api/v1/runs/{last}").json()["updated_at"]
    assert activity["busy"].last_activity == datetime.fromisoformat(updated)
    page = httpx.get(f"{base}/")
    assert (
        page.status_code == 200 and 'data-project="busy"' in page.text and 'data-project="empty"' in page.text
    )


def test_chart_data_is_downsampled_to_the_points_asked_keeping_the_extremes(api_server: str) -> None:
    uuid = _run(api_server, "charts", "queued", "running")
    values = [float(i % 97) for i in range(10_000)]
    values[4321] = 1e6  # a spike survives
    values[8765] = -1e6
    series = {
        "name": "loss",
        "values": values,
        "timestamps": [time.time()] * 10_000,
        "steps": list(range(10_000)),
    }
    assert (
        httpx.post(f"{api_server}/api/v1/runs/{uuid}/metrics", json={"series": [series]}).status_code == 200
    )
    data = httpx.get(f"{api_server}/ui/runs/{uuid}/metrics/loss", params={"points": 400}).json()
    assert data["downsampled"] is True and 2 < len(data["values"]) <= 400
    assert data["steps"][0] == 0 and data["steps"][-1] == 9_999
    assert max(data["values"]) == 1e6 and min(data["values"]) == -1e6
    assert data["steps"] == sorted(data["steps"])
    assert httpx.get(f"{api_server}/ui/runs/{uuid}/metrics").json() == ["loss"]
    too_many = httpx.get(f"{api_server}/ui/runs/{uuid}/metrics/loss", params={"points": 10**7})
    assert too_many.status_code == 422 and too_many.json()["field"] == "points"


def _read(status: str, *conditions: tuple[str, str | None, str | None]) -> RunRead:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return RunRead(
        uuid="u" * 32,
        project="p",
        kind="job",
        status=status,
        created_at=start,
        updated_at=start,
        conditions=[
            StatusCondition(type=kind, reason=reason, message=message, time=start + timedelta(seconds=i))
            for i, (kind, reason, message) in enumerate(conditions)
        ],
    )


def test_why_shows_the_reason_the_executor_recorded_for_the_current_status() -> None:
    from mizzen.server.ui.views import Why, why

    failed = _read(
        "failed",
        ("queued", "Queued", "waiting for a slot"),
        ("running", None, None),
        ("failed", "OOMKilled", "main: out of memory (limit 2Gi)"),
    )
    assert why(failed) == Why("Why failed", "OOMKilled", "main: out of memory (limit 2Gi)")
    pending = _read(
        "unschedulable", ("created", None, None), ("unschedulable", "Unschedulable", "0/3 nodes: gpu")
    )
    found = why(pending)
    assert found is not None and (found.title, found.message) == ("Why pending", "0/3 nodes: gpu")
    assert why(_read("succeeded", ("succeeded", "Done", None))) is None
    silent = why(_read("queued", ("created", None, None), ("queued", None, None)))
    assert silent is not None and silent.message == "no reason recorded yet"


def test_the_table_url_carries_only_what_differs_from_the_default_view() -> None:
    from mizzen.server.ui.views import TableView

    assert TableView().url("p") == "/projects/p"
    view = TableView(query="status:failed", sort="name", page=3)
    assert view.url("p") == "/projects/p?query=status%3Afailed&sort=name&page=3"
    assert view.sort_toggle("p", "name") == "/projects/p?query=status%3Afailed&sort=-name"
    assert view.sort_toggle("p", "duration") == "/projects/p?query=status%3Afailed&sort=duration"
