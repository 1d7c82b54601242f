"""How HTTP failures become Mizzen errors.

``ApiNotFound`` is both a ``NotFound`` and an ``ApiError`` (likewise ``ApiConflict``), so callers can catch
either the domain error or "anything the API said".
"""

from __future__ import annotations

import errno
from typing import Any

import httpx

from mizzen.errors import ApiError, Conflict, NotFound


class ApiRequestError(ApiError):
    """The API answered with an error status; ``field`` names the request field at fault, if any."""

    def __init__(
        self, message: str, status_code: int | None, field: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.field = field
        self.code = code


class ApiNotFound(NotFound, ApiRequestError):
    """The API answered 404."""


class ApiConflict(Conflict, ApiRequestError):
    """The API answered 409 (the thing exists already, or a status transition is not allowed)."""


class ApiUnreachable(ApiError):
    """No answer from the API.

    ``request_sent`` is False when the request surely never reached the server (connection refused,
    connect timeout), True when it may have been processed before the connection broke.
    """

    def __init__(self, message: str, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


def error_from_response(response: httpx.Response) -> ApiRequestError:
    """The error for an HTTP answer >= 400, carrying the server's message and the field at fault."""
    code, message, field = _parse_error_body(response)
    if field and field not in message:
        message = f"{message} (field '{field}')"
    if response.status_code == 404:
        return ApiNotFound(message, 404, field, code)
    if response.status_code == 409:
        return ApiConflict(message, 409, field, code)
    return ApiRequestError(message, response.status_code, field, code)


def _parse_error_body(response: httpx.Response) -> tuple[str | None, str, str | None]:
    """(code, message, field) from an ``ErrorBody`` or FastAPI's default ``{"detail": ...}``."""
    fallback = f"the Mizzen API answered {response.status_code} {response.reason_phrase}".rstrip()
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return None, (f"{fallback}: {text[:500]}" if text else fallback), None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        field = body.get("field")
        return body.get("error"), body["message"], field if isinstance(field, str) else None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return None, detail, None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        location = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path")]
        return "invalid", str(first.get("msg", fallback)), ".".join(location) or None
    return None, fallback, None


def unreachable(host: str, exc: httpx.TransportError) -> ApiUnreachable:
    """A clear message for a request that got no answer."""
    if isinstance(exc, httpx.ConnectTimeout):
        return ApiUnreachable(f"cannot reach the Mizzen API at {host}: connection timed out", False)
    if isinstance(exc, httpx.ConnectError):
        return ApiUnreachable(f"cannot reach the Mizzen API at {host}: {_connect_reason(exc)}", False)
    if isinstance(exc, httpx.TimeoutException):
        return ApiUnreachable(f"the Mizzen API at {host} did not answer in time", True)
    reason = str(exc) or type(exc).__name__
    return ApiUnreachable(f"lost the connection to the Mizzen API at {host}: {reason}", True)


def _connect_reason(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "unknown host name"
    return text or "connection failed"
