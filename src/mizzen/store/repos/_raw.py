"""Run a SELECT through the DB-API cursor of the session's connection, returning plain tuples.

For large reads of simple columns (numbers, text) whose values need no conversion by SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session


def fetch_tuples(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.params
    args: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()
