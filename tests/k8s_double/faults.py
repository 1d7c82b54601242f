"""Fault injection: error responses for the next N matching requests."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .errors import ApiError

_REASONS = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected by the test double"),
    503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    504: ("Timeout", "The server was unable to return a response in the time allotted"),
}


@dataclass
class FaultRule:
    status: int
    count: int
    method: str | None = None
    path: re.Pattern[str] | None = None
    watch: bool | None = None  # only watch requests (True), only non-watch (False), or both (None)
    retry_after: int | None = None
    message: str | None = None
    hits: int = field(default=0)

    def matches(self, method: str, path: str, is_watch: bool) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and not self.path.search(path):
            return False
        return self.watch is None or self.watch == is_watch

    def error(self) -> ApiError:
        reason, default_message = _REASONS.get(self.status, ("InternalError", "injected failure"))
        details: dict[str, object] = {}
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
            headers["Retry-After"] = str(self.retry_after)
        return ApiError(self.status, reason, self.message or default_message, details, headers)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def inject(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        path: str | None = None,
        watch: bool | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> FaultRule:
        """Answer the next `count` requests matching method/path regex/watch with `status`."""
        if status == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule(
            status, count, method, re.compile(path) if path else None, watch, retry_after, message
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, method: str, path: str, is_watch: bool) -> ApiError | None:
        with self._lock:
            for rule in self._rules:
                if rule.count > 0 and rule.matches(method, path, is_watch):
                    rule.count -= 1
                    rule.hits += 1
                    if rule.count == 0:
                        self._rules.remove(rule)
                    return rule.error()
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
