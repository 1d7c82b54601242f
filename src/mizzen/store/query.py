"""The run list language (Polyaxon's query syntax), parsed into plain conditions.

Query: comma-separated ``field:value`` terms, all of which must hold::

    status:running|failed      one of several values (``|``)
    status:~succeeded          ``~`` negates any term
    kind:job  name:%resnet%    ``%`` is a wildcard in text fields
    tags:a|b                   has at least one of the tags
    metrics.loss:<0.5          <, <=, >, >=, plain equality, ``a..b`` (inclusive range), ``nil``
    params.lr:0.1              params / inputs / outputs: numbers, true/false, text, nil
    created_at:>2026-01-01     dates: comparisons, ranges, a bare date means that whole day
    duration:>60               seconds

Sort: comma-separated fields, ``-`` for descending: ``-created_at``, ``metrics.loss``, ``duration``.
Errors are ``InvalidInput`` naming the request field (``query`` or ``sort``) and the bad term.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mizzen.errors import InvalidInput
from mizzen.schemas.statuses import RunStatus

TEXT_FIELDS = frozenset(
    {
        "name",
        "kind",
        "uuid",
        "project",
        "executor",
        "queue",
        "cloning_kind",
        "cache_key",
        "pipeline_uuid",
        "pipeline_key",
        "parent_uuid",
        "original_uuid",
    }
)
DATE_FIELDS = frozenset({"created_at", "updated_at", "started_at", "finished_at"})
NUMBER_FIELDS = frozenset({"duration"})
JSON_PREFIXES = ("params", "inputs", "outputs")
SORT_FIELDS = DATE_FIELDS | NUMBER_FIELDS | frozenset({"name", "status", "kind", "pipeline_key"})
# Polyaxon writes a sweep's trials as `pipeline:UUID`; Mizzen's column is pipeline_uuid.
FIELD_ALIASES = {"pipeline": "pipeline_uuid"}

_JSON_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")
_COMPARISON = re.compile(r"^(<=|>=|<|>)\s*(.+)$")


class _DottedField:
    field: str  # "status", "created_at", "metrics.loss", "params.lr", ...

    @property
    def namespace(self) -> str | None:
        """ "metrics", "params", "inputs" or "outputs" for dotted fields, else None."""
        return self.field.split(".", 1)[0] if "." in self.field else None

    @property
    def key(self) -> str:
        return self.field.split(".", 1)[1] if "." in self.field else self.field


@dataclass(frozen=True)
class Condition(_DottedField):
    """One parsed term. ``op``: eq, in, lt, le, gt, ge, range (inclusive), range_open ([low, high)),
    nil, like, has_any."""

    field: str
    op: str
    values: tuple[Any, ...] = ()
    negate: bool = False


@dataclass(frozen=True)
class SortKey(_DottedField):
    field: str
    descending: bool = False


def parse_query(text: str | None) -> list[Condition]:
    conditions: list[Condition] = []
    for term in _terms(text):
        field, sep, raw = term.partition(":")
        field, raw = field.strip(), raw.strip()
        field = FIELD_ALIASES.get(field, field)
        if not sep or not field or not raw:
            raise _query_error(term, "expected FIELD:VALUE, e.g. status:running")
        _check_field(field, term)
        negate = raw.startswith("~")
        if negate:
            raw = raw[1:].strip()
        if not raw:
            raise _query_error(term, "a value must follow '~'")
        conditions.append(_parse_value(field, raw, negate, term))
    return conditions


def parse_sort(text: str | None) -> list[SortKey]:
    keys: list[SortKey] = []
    for term in _terms(text):
        key = SortKey(term.lstrip("-+").strip(), descending=term.startswith("-"))
        namespace = key.namespace
        valid = key.field in SORT_FIELDS or (
            namespace in ("metrics", *JSON_PREFIXES) and _valid_key(namespace, key.key)
        )
        if not valid:
            allowed = ", ".join(sorted(SORT_FIELDS))
            raise InvalidInput(
                f"cannot sort by '{key.field}': use {allowed}, metrics.NAME or params.NAME "
                "(prefix - for descending)",
                field="sort",
            )
        keys.append(key)
    return keys


def _terms(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _query_error(term: str, problem: str) -> InvalidInput:
    return InvalidInput(f"query term '{term}': {problem}", field="query")


def _valid_key(namespace: str, key: str) -> bool:
    if namespace == "metrics":
        return bool(key) and len(key) <= 255
    return bool(_JSON_KEY.match(key))


def _check_field(field: str, term: str) -> None:
    if field in TEXT_FIELDS | DATE_FIELDS | NUMBER_FIELDS | {"status", "tags", "managed"}:
        return
    namespace, _, key = field.partition(".")
    if namespace in ("metrics", *JSON_PREFIXES) and key:
        if not _valid_key(namespace, key):
            raise _query_error(term, f"'{key}' is not a valid {namespace} name (letters, digits, _ and -)")
        return
    raise _query_error(
        term,
        f"unknown field '{field}'; use status, kind, name, tags, project, pipeline, created_at, duration, "
        "metrics.NAME, params.NAME, inputs.NAME or outputs.NAME",
    )


def _parse_value(field: str, raw: str, negate: bool, term: str) -> Condition:
    if raw == "nil":
        return Condition(field, "nil", (), negate)
    if field == "status":
        statuses = tuple(_status(v.strip(), term) for v in raw.split("|"))
        return Condition(field, "in", statuses, negate)
    if field == "tags":
        return Condition(field, "has_any", tuple(v.strip() for v in raw.split("|") if v.strip()), negate)
    if field == "managed":
        return Condition(field, "eq", (_boolean(raw, term),), negate)
    if field in TEXT_FIELDS:
        values = tuple(v.strip() for v in raw.split("|"))
        if len(values) == 1 and "%" in values[0]:
            return Condition(field, "like", values, negate)
        return Condition(field, "in", values, negate)
    if field in DATE_FIELDS:
        return _date_condition(field, raw, negate, term)
    if field in NUMBER_FIELDS or field.startswith("metrics."):
        return _number_condition(field, raw, negate, term)
    return _json_condition(field, raw, negate, term)


def _status(value: str, term: str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in RunStatus)
        raise _query_error(term, f"unknown status '{value}' (one of: {allowed})") from None


def _boolean(raw: str, term: str) -> bool:
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise _query_error(term, f"expected true or false, got '{raw}'")


def _number(raw: str, term: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _query_error(term, f"expected a number, got '{raw}'") from None
    if not math.isfinite(value):
        raise _query_error(term, f"expected a finite number, got '{raw}'")
    return value


_OPS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _number_condition(field: str, raw: str, negate: bool, term: str) -> Condition:
    if match := _COMPARISON.match(raw):
        return Condition(field, _OPS[match.group(1)], (_number(match.group(2).strip(), term),), negate)
    if ".." in raw:
        low, _, high = raw.partition("..")
        return Condition(field, "range", (_number(low.strip(), term), _number(high.strip(), term)), negate)
    return Condition(field, "eq", (_number(raw, term),), negate)


def _json_condition(field: str, raw: str, negate: bool, term: str) -> Condition:
    if match := _COMPARISON.match(raw):
        return Condition(field, _OPS[match.group(1)], (_number(match.group(2).strip(), term),), negate)
    if raw in ("true", "false"):
        return Condition(field, "eq", (raw == "true",), negate)
    try:
        return Condition(field, "eq", (_number(raw, term),), negate)
    except InvalidInput:
        values = tuple(v.strip() for v in raw.split("|"))
        return Condition(field, "in", values, negate)


def _moment(raw: str, term: str) -> tuple[datetime, bool]:
    """A datetime in UTC, and whether the text was a bare date (meaning that whole day)."""
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _query_error(
            term, f"expected a date (2026-01-31) or datetime (2026-01-31T12:00), got '{raw}'"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment, False


def _date_condition(field: str, raw: str, negate: bool, term: str) -> Condition:
    if match := _COMPARISON.match(raw):
        op = _OPS[match.group(1)]
        moment, whole_day = _moment(match.group(2).strip(), term)
        if whole_day and op in ("gt", "le"):  # ">2026-01-01" means after that day
            moment += timedelta(days=1)
            op = "ge" if op == "gt" else "lt"
        return Condition(field, op, (moment,), negate)
    if ".." in raw:
        low_raw, _, high_raw = raw.partition("..")
        low, _ = _moment(low_raw.strip(), term)
        high, whole_day = _moment(high_raw.strip(), term)
        if whole_day:
            return Condition(field, "range_open", (low, high + timedelta(days=1)), negate)
        return Condition(field, "range", (low, high), negate)
    moment, whole_day = _moment(raw, term)
    if whole_day:
        return Condition(field, "range_open", (moment, moment + timedelta(days=1)), negate)
    return Condition(field, "eq", (moment,), negate)
