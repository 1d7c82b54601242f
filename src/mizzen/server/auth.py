"""The bearer-token checks (full authentication comes later).

With no token configured (``MIZZEN_TOKEN`` unset where the server runs) every request is accepted:
the embedded default serves only 127.0.0.1. With one, a request must carry
``Authorization: Bearer <that token>`` or the token of a run (what a run's own process holds);
agent routes accept the server's token only.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from mizzen.server.errors import Unauthorized


def _bearer_token(request: Request) -> str:
    """The request's bearer token ("" when it carries none)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _is_server_token(token: str, expected: str) -> bool:
    return hmac.compare_digest(token.encode(), expected.encode())


def require_token(request: Request) -> None:
    expected: str | None = request.app.state.settings.token
    if not expected:
        return
    token = _bearer_token(request)
    if token and (_is_server_token(token, expected) or request.app.state.services.runs.token_is_valid(token)):
        return
    raise Unauthorized("a valid bearer token is required (Authorization: Bearer TOKEN)")


def require_server_token(request: Request) -> None:
    """Agents act on every run: a run's own token (accepted elsewhere) is not enough there."""
    expected: str | None = request.app.state.settings.token
    if expected and not _is_server_token(_bearer_token(request), expected):
        raise Unauthorized("agent routes need the server's token (MIZZEN_TOKEN), not a run's token")
