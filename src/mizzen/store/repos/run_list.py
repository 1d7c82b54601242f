"""Run lists: parsed query conditions and sort keys (``mizzen.store.query``) compiled to SQL.

Lists select plain columns (never the spec, plan or content) and join ``metric_summaries`` once per
metric named in the query or the sort, so that filtering and sorting by a metric stays an index
lookup per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from mizzen.store.json_sql import json_array_has, json_bool, json_number, json_text, json_type
from mizzen.store.orm import MetricSummaryRow, ProjectRow, RunRow
from mizzen.store.query import JSON_PREFIXES, Condition, SortKey
from mizzen.store.records import LIST_COLUMNS, RunPage
from mizzen.store.repos._raw import decode_rows, fetch_tuples


class _Builder:
    def __init__(self) -> None:
        self.metric_joins: dict[str, Any] = {}

    def metric(self, name: str) -> Any:
        if name not in self.metric_joins:
            self.metric_joins[name] = aliased(MetricSummaryRow, name=f"metric_{len(self.metric_joins)}")
        return self.metric_joins[name]

    def apply_joins(self, query: Select[Any]) -> Select[Any]:
        for name, alias in self.metric_joins.items():
            query = query.outerjoin(alias, and_(alias.run_id == RunRow.id, alias.name == name))
        return query

    def where(self, condition: Condition) -> ColumnElement[bool]:
        # As in Polyaxon, "~<=0.1" means ">0.1": a run without the value matches neither.
        clause = self._positive(condition)
        return not_(clause) if condition.negate else clause

    def _positive(self, c: Condition) -> ColumnElement[bool]:
        if c.field == "project":
            return _compare(ProjectRow.name, c)
        if c.field == "tags":
            return or_(*(json_array_has(RunRow.tags, tag) for tag in c.values)) if c.values else false()
        if c.namespace == "metrics":
            return _compare(self.metric(c.key).last, c)
        if c.namespace in JSON_PREFIXES:
            return _json_compare(getattr(RunRow, c.namespace), c)
        return _compare(getattr(RunRow, c.field), c)

    def order(self, key: SortKey) -> ColumnElement[Any]:
        if key.namespace == "metrics":
            column: Any = self.metric(key.key).last
        elif key.namespace in JSON_PREFIXES:
            column = json_number(getattr(RunRow, key.namespace), key.key)
        else:
            column = getattr(RunRow, key.field)
        return (column.desc() if key.descending else column.asc()).nulls_last()


def _compare(column: Any, c: Condition) -> ColumnElement[bool]:
    values = [v.value if hasattr(v, "value") else v for v in c.values]  # enums -> their text
    match c.op:
        case "eq":
            return column == values[0]
        case "in":
            return column.in_(values) if len(values) > 1 else column == values[0]
        case "like":
            return column.like(values[0])
        case "lt":
            return column < values[0]
        case "le":
            return column <= values[0]
        case "gt":
            return column > values[0]
        case "ge":
            return column >= values[0]
        case "range":
            return and_(column >= values[0], column <= values[1])
        case "range_open":
            return and_(column >= values[0], column < values[1])
        case "nil":
            return column.is_(None)
    raise ValueError(f"unsupported operator {c.op}")


def _json_compare(column: Any, c: Condition) -> ColumnElement[bool]:
    key = c.key
    if c.op == "nil":
        kind = json_type(column, key)
        return or_(kind.is_(None), kind == "null")
    if c.op == "in":
        return _compare(json_text(column, key), c)
    value = c.values[0]
    if isinstance(value, bool):
        return json_bool(column, key) == ("true" if value else "false")
    return _compare(json_number(column, key), c)


def list_runs(
    session: Session,
    *,
    project: str | None = None,
    conditions: Sequence[Condition] = (),
    sort: Sequence[SortKey] = (),
    limit: int = 100,
    offset: int = 0,
) -> RunPage:
    builder = _Builder()
    filters = [builder.where(c) for c in conditions]
    if project is not None:
        filters.append(ProjectRow.name == project)
    ordering = [builder.order(k) for k in sort] or [RunRow.created_at.desc()]
    ordering.append(RunRow.id.desc())

    columns = [getattr(RunRow, name) for name in LIST_COLUMNS]
    base = select(*columns, ProjectRow.name.label("project")).join(
        ProjectRow, ProjectRow.id == RunRow.project_id
    )
    items_query = builder.apply_joins(base).where(*filters).order_by(*ordering).limit(limit).offset(offset)
    items = decode_rows(fetch_tuples(session, items_query), (*LIST_COLUMNS, "project"))
    if offset == 0 and len(items) < limit:  # the page holds every match: no need to count
        return RunPage(items=items, count=len(items))
    counted = select(func.count()).select_from(RunRow).join(ProjectRow, ProjectRow.id == RunRow.project_id)
    count = session.scalar(builder.apply_joins(counted).where(*filters)) or 0
    return RunPage(items=items, count=int(count))
