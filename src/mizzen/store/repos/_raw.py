"""Run a SELECT and take its rows straight from the DB-API cursor, as plain tuples.

For large reads whose values need little or no conversion: SQLAlchemy still compiles the query and
processes its parameters, but building its row objects would cost several times the query itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session


def fetch_tuples(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


JSON_COLUMNS = frozenset({"tags", "params", "inputs", "outputs", "meta", "spec", "plan", "summary"})
TIME_COLUMNS = frozenset({"created_at", "updated_at", "started_at", "finished_at", "time", "last_seen_at"})
BOOL_COLUMNS = frozenset({"managed", "is_input"})


def _json(value: Any) -> Any:
    if not isinstance(value, str):  # psycopg decodes JSONB itself; SQLite gives text
        return value
    if value == "{}":  # most inputs/outputs/meta: skip the decoder's per-call cost
        return {}
    if value == "[]":
        return []
    return json.loads(value)


def _time(value: Any) -> datetime | None:
    """The same values UtcDateTime gives, from SQLite's text or PostgreSQL's aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def decode_rows(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of ``fetch_tuples`` as dicts, with JSON, time and boolean columns converted by name."""
    converters = [
        (n, _json if n in JSON_COLUMNS else _time if n in TIME_COLUMNS else _bool)
        for n in names
        if n in JSON_COLUMNS or n in TIME_COLUMNS or n in BOOL_COLUMNS
    ]
    decoded = []
    for row in rows:
        item = dict(zip(names, row, strict=True))
        for name, convert in converters:
            item[name] = convert(item[name])
        decoded.append(item)
    return decoded
