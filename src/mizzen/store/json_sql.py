"""Typed reads of one key of a JSON column, written once per dialect.

``json_number(col, key)`` is the key's value when it is a JSON number, else NULL; likewise
``json_text`` (strings), ``json_bool`` ('true'/'false' text for JSON booleans) and ``json_type``
(NULL or 'null' when absent). ``json_array_has(col, value)`` tests a JSON array of strings.
A value of the wrong type is NULL rather than a cast error, so a query can never fail on data.
Keys are bound parameters (and restricted to ``[A-Za-z0-9_-]`` by the query parser).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class _JsonKeyFunction(FunctionElement[Any]):
    inherit_cache = True

    def __init__(self, column: Any, key: str) -> None:
        super().__init__(column, literal(key, String))


class json_number(_JsonKeyFunction):
    type = Float()
    inherit_cache = True


class json_text(_JsonKeyFunction):
    type = String()
    inherit_cache = True


class json_bool(_JsonKeyFunction):
    type = String()
    inherit_cache = True


class json_type(_JsonKeyFunction):
    type = String()
    inherit_cache = True


class json_array_has(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True

    def __init__(self, column: Any, value: str) -> None:
        super().__init__(column, literal(value, String))


class _Args:
    """Renders the column and the key; each use renders the bound key again (qmark needs one per use)."""

    def __init__(self, element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> None:
        self._column, self._key = list(element.clauses)
        self._compiler, self._kw = compiler, kw

    @property
    def col(self) -> str:
        return self._compiler.process(self._column, **self._kw)

    @property
    def key(self) -> str:
        return self._compiler.process(self._key, **self._kw)

    @property
    def path(self) -> str:  # SQLite JSON path of the key: $."key"
        return f"('$.\"' || {self.key} || '\"')"


@compiles(json_number, "sqlite")
def _number_sqlite(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return (
        f"(CASE WHEN json_type({a.col}, {a.path}) IN ('integer', 'real') "
        f"THEN json_extract({a.col}, {a.path}) END)"
    )


@compiles(json_number, "postgresql")
def _number_pg(element: json_number, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({a.col} -> {a.key}) = 'number' THEN ({a.col} ->> {a.key})::float8 END)"


@compiles(json_text, "sqlite")
def _text_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"(CASE WHEN json_type({a.col}, {a.path}) = 'text' THEN json_extract({a.col}, {a.path}) END)"


@compiles(json_text, "postgresql")
def _text_pg(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({a.col} -> {a.key}) = 'string' THEN {a.col} ->> {a.key} END)"


@compiles(json_bool, "sqlite")
def _bool_sqlite(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return (
        f"(CASE WHEN json_type({a.col}, {a.path}) IN ('true', 'false') THEN json_type({a.col}, {a.path}) END)"
    )


@compiles(json_bool, "postgresql")
def _bool_pg(element: json_bool, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"(CASE WHEN jsonb_typeof({a.col} -> {a.key}) = 'boolean' THEN {a.col} ->> {a.key} END)"


@compiles(json_type, "sqlite")
def _type_sqlite(element: json_type, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"json_type({a.col}, {a.path})"


@compiles(json_type, "postgresql")
def _type_pg(element: json_type, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"jsonb_typeof({a.col} -> {a.key})"


@compiles(json_array_has, "sqlite")
def _array_has_sqlite(element: json_array_has, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({a.col}) WHERE json_each.value = {a.key})"


@compiles(json_array_has, "postgresql")
def _array_has_pg(element: json_array_has, compiler: SQLCompiler, **kw: Any) -> str:
    a = _Args(element, compiler, **kw)
    return f"({a.col} @> jsonb_build_array(CAST({a.key} AS text)))"
