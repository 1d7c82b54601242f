"""Every error leaves the API as an ``ErrorBody`` with the right status; never a traceback.

Request validation errors become 422 with ``field`` naming the request field (``points[3].value``,
``limit``, ``name``), so a client can point its user at what to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mizzen.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, MizzenError, NotFound
from mizzen.schemas.api import ErrorBody

log = logging.getLogger(__name__)


class TooLarge(MizzenError):
    """A request body over the server's limit (413); the message says the limit."""


class Unauthorized(MizzenError):
    """No valid bearer token on a server that requires one."""


def error_response(status: int, error: str, message: str, field: str | None = None) -> JSONResponse:
    body = ErrorBody(error=error, message=message, field=field)
    return JSONResponse(body.model_dump(), status_code=status)


def field_of(location: Sequence[Any]) -> str | None:
    """("body", "points", 3, "value") -> "points[3].value"; ("query", "limit") -> "limit"."""
    parts = (
        list(location[1:])
        if location and location[0] in ("body", "query", "path", "header")
        else list(location)
    )
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    if not text and location and location[0] == "body":
        return "body"
    return text or None


def _validation_message(error: dict[str, Any], field: str | None) -> str:
    kind = error.get("type", "")
    if kind == "json_invalid":
        detail = (error.get("ctx") or {}).get("error", "")
        return f"the request body is not valid JSON{': ' + detail if detail else ''}"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'"
    if kind == "missing":
        return f"'{field}' is required" if field and field != "body" else "a request body is required"
    return (
        f"{field}: {error.get('msg', 'invalid value')}" if field else str(error.get("msg", "invalid value"))
    )


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    field = field_of(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        field = "body"
    message = _validation_message(first, field)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return error_response(422, "invalid", message, field)


async def _on_mizzen_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MizzenError)
    if isinstance(exc, InvalidInput):
        return error_response(422, "invalid", exc.message, exc.field)
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", exc.message)
    if isinstance(exc, InvalidTransition):
        return error_response(409, "invalid_transition", exc.message, "status")
    if isinstance(exc, Conflict):
        return error_response(409, "conflict", exc.message)
    if isinstance(exc, Unauthorized):
        return error_response(401, "unauthorized", exc.message)
    if isinstance(exc, TooLarge):
        return error_response(413, "too_large", exc.message, "body")
    if isinstance(exc, Forbidden):
        return error_response(403, "forbidden", exc.message)
    return error_response(400, "error", exc.message)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    403: "forbidden",
    413: "too_large",
}


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = "no such API route"
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "http_error"), message)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal server error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(MizzenError, _on_mizzen_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
