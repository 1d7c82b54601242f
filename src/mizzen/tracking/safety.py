"""Tracking must never break training: failures become one warning each, never an exception."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

logger = logging.getLogger("mizzen.tracking")
_warned: set[str] = set()

P = ParamSpec("P")
R = TypeVar("R")


def warn_once(key: str, message: str) -> None:
    """Logs ``message`` the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        logger.warning("mizzen.tracking: %s", message)


def guarded(method: Callable[P, R]) -> Callable[P, R | None]:
    """Runs ``method``; an exception is logged once (per method and error type) and swallowed."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            warn_once(
                f"{method.__name__}:{type(exc).__name__}",
                f"{method.__name__}() failed and was skipped (training goes on): {exc}",
            )
            return None

    return wrapper


def json_default(value: Any) -> Any:
    """JSON for what training code hands us: numpy scalars and arrays, paths, dates, sets."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
