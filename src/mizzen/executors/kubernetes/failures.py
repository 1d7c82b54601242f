"""Errors of the Kubernetes API as the executor sees them."""

from __future__ import annotations

from mizzen.errors import ExecutorError


class ApiFailure(ExecutorError):
    """The API server answered with an error (``status`` 0: it could not be reached)."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"Kubernetes API: {status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.detail = message
        self.retry_after = retry_after


class WatchExpired(ApiFailure):
    """410 Gone: the resourceVersion to resume from is too old; relist."""
