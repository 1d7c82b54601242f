from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mizzen.errors import InvalidInput
from mizzen.schemas.statuses import RunStatus
from mizzen.store.query import Condition, SortKey, parse_query, parse_sort


def test_parses_polyaxon_style_terms() -> None:
    assert parse_query("status:running|failed, kind:job, metrics.loss:<0.5, tags:a, params.lr:0.1") == [
        Condition("status", "in", (RunStatus.RUNNING, RunStatus.FAILED)),
        Condition("kind", "in", ("job",)),
        Condition("metrics.loss", "lt", (0.5,)),
        Condition("tags", "has_any", ("a",)),
        Condition("params.lr", "eq", (0.1,)),
    ]


def test_negation_nil_like_and_ranges() -> None:
    assert parse_query("status:~succeeded") == [
        Condition("status", "in", (RunStatus.SUCCEEDED,), negate=True)
    ]
    assert parse_query("metrics.loss:~nil") == [Condition("metrics.loss", "nil", (), negate=True)]
    assert parse_query("name:%resnet%") == [Condition("name", "like", ("%resnet%",))]
    assert parse_query("duration:10..20") == [Condition("duration", "range", (10.0, 20.0))]
    assert parse_query("params.opt:adam|sgd") == [Condition("params.opt", "in", ("adam", "sgd"))]
    assert parse_query("params.flag:true") == [Condition("params.flag", "eq", (True,))]


def test_dates_mean_whole_days_when_bare() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    next_day = datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_query("created_at:>2026-01-01") == [Condition("created_at", "ge", (next_day,))]
    assert parse_query("created_at:>=2026-01-01") == [Condition("created_at", "ge", (day,))]
    assert parse_query("created_at:2026-01-01") == [Condition("created_at", "range_open", (day, next_day))]
    moment = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert parse_query("started_at:<2026-01-01T10:30:00Z") == [Condition("started_at", "lt", (moment,))]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("status:runing", "unknown status 'runing'"),
        ("colour:red", "unknown field 'colour'"),
        ("metrics.loss:<abc", "expected a number"),
        ("created_at:>yesterday", "expected a date"),
        ("status", "expected FIELD:VALUE"),
        ("params.a.b:1", "not a valid params name"),
        ("managed:maybe", "expected true or false"),
        ("metrics.loss:<nan", "finite"),
    ],
)
def test_bad_queries_name_the_field_and_the_term(query: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_query(query)
    assert error.value.field == "query"
    assert fragment in str(error.value)


def test_sort_keys() -> None:
    assert parse_sort("-created_at, metrics.loss,duration") == [
        SortKey("created_at", True),
        SortKey("metrics.loss", False),
        SortKey("duration", False),
    ]
    assert parse_sort(None) == []
    with pytest.raises(InvalidInput) as error:
        parse_sort("-colour")
    assert error.value.field == "sort"
