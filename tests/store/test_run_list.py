from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database
from mizzen.store.database import read_session, write_session
from mizzen.store.query import parse_query, parse_sort
from mizzen.store.repos import metrics, run_list, runs, statuses
from mizzen.store.repos.metrics import Point

T0 = datetime(2026, 1, 10, tzinfo=UTC)


@pytest.fixture
def populated(database: Database) -> Database:
    """Five runs: r0..r4 created a day apart, with losses, params, tags and statuses."""
    specs = [
        ("r0", "job", RunStatus.SUCCEEDED, 0.9, {"lr": 0.1, "opt": "adam", "flag": True}, ["a"]),
        ("r1", "job", RunStatus.FAILED, 0.4, {"lr": 0.01, "opt": "sgd", "flag": False}, ["b"]),
        ("r2", "service", RunStatus.RUNNING, 0.2, {"lr": 0.1, "opt": "sgd"}, ["a", "b"]),
        ("r3", "job", RunStatus.RUNNING, None, {"lr": "high"}, []),
        ("r4", "dag", RunStatus.CREATED, 0.6, {}, ["c"]),
    ]
    for day, (name, kind, status, loss, params, tags) in enumerate(specs):
        created = T0 + timedelta(days=day)
        with write_session(database) as session:
            project = "other" if name == "r4" else "main"
            run, _ = runs.create_run(
                session,
                runs.NewRun(project=project, name=name, kind=kind, params=params, tags=tags),
                now=created,
            )
            if status != RunStatus.CREATED:
                statuses.set_status(session, run, RunStatus.RUNNING, now=created)
                if status != RunStatus.RUNNING:
                    statuses.set_status(session, run, status, now=created + timedelta(seconds=10 * (day + 1)))
            if loss is not None:
                metrics.ingest(
                    session, run.id, [Point("loss", 1, 1.0, loss + 1), Point("loss", 2, 2.0, loss)]
                )
    return database


def _names(db: Database, query: str = "", sort: str = "", **kwargs: object) -> list[str]:
    with read_session(db) as session:
        page = run_list.list_runs(
            session,
            conditions=parse_query(query),
            sort=parse_sort(sort),
            **kwargs,  # type: ignore[arg-type]
        )
    return [item["name"] for item in page.items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["r4", "r3", "r2", "r1", "r0"]),
        ("status:running", ["r3", "r2"]),
        ("status:running|failed", ["r3", "r2", "r1"]),
        ("status:~running", ["r4", "r1", "r0"]),
        ("kind:job", ["r3", "r1", "r0"]),
        ("name:r1", ["r1"]),
        ("name:%r%", ["r4", "r3", "r2", "r1", "r0"]),
        ("tags:a", ["r2", "r0"]),
        ("tags:b|c", ["r4", "r2", "r1"]),
        ("metrics.loss:<0.5", ["r2", "r1"]),
        ("metrics.loss:>=0.6", ["r4", "r0"]),
        ("metrics.loss:~<=0.4", ["r4", "r0"]),
        ("metrics.loss:nil", ["r3"]),
        ("metrics.loss:0.2..0.6", ["r4", "r2", "r1"]),
        ("params.lr:0.1", ["r2", "r0"]),
        ("params.lr:<0.05", ["r1"]),
        ("params.lr:high", ["r3"]),
        ("params.opt:sgd", ["r2", "r1"]),
        ("params.flag:true", ["r0"]),
        ("params.flag:false", ["r1"]),
        ("params.opt:nil", ["r4", "r3"]),
        ("created_at:>2026-01-11", ["r4", "r3", "r2"]),
        ("created_at:2026-01-12", ["r2"]),
        ("created_at:2026-01-11..2026-01-12", ["r2", "r1"]),
        ("duration:>15", ["r1"]),
        ("project:other", ["r4"]),
        ("kind:job, metrics.loss:<0.95, status:~failed", ["r0"]),
        ("managed:true", ["r4", "r3", "r2", "r1", "r0"]),
    ],
)
def test_filters(populated: Database, query: str, expected: list[str]) -> None:
    assert _names(populated, query) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created_at", ["r0", "r1", "r2", "r3", "r4"]),
        ("metrics.loss", ["r2", "r1", "r4", "r0", "r3"]),  # runs without the metric come last
        ("-metrics.loss", ["r0", "r4", "r1", "r2", "r3"]),
        ("-duration", ["r1", "r0", "r4", "r3", "r2"]),
        ("name", ["r0", "r1", "r2", "r3", "r4"]),
        ("params.lr, name", ["r1", "r0", "r2", "r3", "r4"]),
    ],
)
def test_sorting(populated: Database, sort: str, expected: list[str]) -> None:
    assert _names(populated, sort=sort) == expected


def test_pagination_counts_every_match(populated: Database) -> None:
    with read_session(populated) as session:
        page = run_list.list_runs(session, sort=parse_sort("name"), limit=2, offset=1)
    assert [i["name"] for i in page.items] == ["r1", "r2"]
    assert page.count == 5
    assert _names(populated, project="main", limit=10) == ["r3", "r2", "r1", "r0"]


def test_list_items_carry_what_a_run_row_needs(populated: Database) -> None:
    with read_session(populated) as session:
        (item,) = run_list.list_runs(session, conditions=parse_query("name:r0")).items
    assert item["project"] == "main"
    assert item["status"] == "succeeded"
    assert item["params"] == {"lr": 0.1, "opt": "adam", "flag": True}
    assert item["created_at"] == T0
    assert "spec" not in item and "content" not in item
