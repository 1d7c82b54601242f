"""The services used in-process (embedded mode) without HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mizzen.schemas.api import MetricPoint, MetricsBatch, RunCreate, StatusUpdate
from mizzen.server.services import Services
from mizzen.settings import Settings


@pytest.fixture
def services(settings: Settings, db_url: str) -> Iterator[Services]:
    built = Services.build(settings.model_copy(update={"database_url": db_url}))
    yield built
    built.close()


def test_the_fast_list_json_is_the_list_model_json(services: Services) -> None:
    for index in range(5):
        run = services.runs.create(
            RunCreate(
                project="p", name=f"r{index}", params={"lr": index / 10}, tags=["t"], outputs={"o": index}
            )
        )
        services.metrics.ingest(
            run.uuid, MetricsBatch(points=[MetricPoint(name="loss", value=index, timestamp=1.0)])
        )
        if index % 2:
            services.runs.set_status(run.uuid, StatusUpdate(status="running"))
    for query, sort in [(None, None), ("metrics.loss:<3", "-metrics.loss"), ("status:running", "name")]:
        models = services.runs.search(None, query, sort, 3, 0).model_dump_json()
        fast = services.runs.search_json(None, query, sort, 3, 0)
        assert json.loads(fast) == json.loads(models)
        assert json.loads(fast)["items"], query


def test_a_single_run_and_its_list_item_agree(services: Services) -> None:
    created = services.runs.create(RunCreate(project="p", name="one", meta={"k": [1, 2]}))
    (listed,) = services.runs.search("p", None, None, 10, 0).items
    detail = services.runs.get(created.uuid)
    list_fields = set(type(listed).model_fields) - {
        "content",
        "spec",
        "plan",
        "conditions",
        "metrics",
        "token",
    }
    assert {f: getattr(listed, f) for f in list_fields} == {f: getattr(detail, f) for f in list_fields}
