"""Checks a request body passes before it reaches the database: the DTOs check shapes, these check
what the database could not store or what would make the data inconsistent. Each failure names the
request field (``InvalidInput.field``)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mizzen.errors import InvalidInput

PROJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
RUN_UUID = re.compile(r"^[0-9a-f]{32}$")
CLONING_KINDS = frozenset({"copy", "restart", "cache"})
INT64 = 2**63
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of the server's clock a client's may be
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_project_name(value: str, field: str = "project") -> None:
    if len(value) > 128 or not PROJECT_NAME.match(value):
        raise InvalidInput(
            f"'{value}' is not a valid project name: lowercase letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit (at most 128 characters)",
            field=field,
        )


def check_run_uuid(value: str | None, field: str) -> None:
    if value is not None and not RUN_UUID.match(value):
        raise InvalidInput(f"'{value}' is not a run uuid (32 hexadecimal characters)", field=field)


def check_kind(value: str, field: str = "kind") -> None:
    if not KIND.match(value):
        raise InvalidInput(f"'{value}' is not a run kind (lowercase letters, digits and _)", field=field)


def check_cloning_kind(value: str | None, field: str = "cloning_kind") -> None:
    if value is not None and value not in CLONING_KINDS:
        raise InvalidInput(f"cloning_kind must be one of {', '.join(sorted(CLONING_KINDS))}", field=field)


def check_length(value: str | None, limit: int, field: str) -> None:
    if value is not None and len(value) > limit:
        raise InvalidInput(f"at most {limit} characters (got {len(value)})", field=field)


def check_storable(value: Any, field: str) -> None:
    """JSON the database can keep: finite numbers, text without NUL characters, string keys."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("text cannot contain NUL characters", field=field)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"numbers must be finite (got {value})", field=field)
    elif isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise InvalidInput("integers must fit in 64 bits", field=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, field)
            check_storable(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_storable(item, f"{field}[{index}]")
    else:
        raise InvalidInput(f"unsupported value of type {type(value).__name__}", field=field)


def check_fields(model: Any, names: tuple[str, ...]) -> None:
    for name in names:
        check_storable(getattr(model, name), name)


def check_moment(value: datetime | None, field: str) -> datetime | None:
    """A time a client says something happened at, in UTC (naive: taken as UTC); not in the future."""
    if value is None:
        return None
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        moment = EPOCH - timedelta(days=1)  # so far back that UTC cannot hold it: refused below
    if moment < EPOCH:
        raise InvalidInput(f"{value.isoformat()} is before 1970-01-01", field=field)
    if moment > datetime.now(UTC) + CLOCK_SKEW:
        raise InvalidInput(
            f"{value.isoformat()} is in the future (the server's clock says otherwise)", field=field
        )
    return moment
