"""The bearer-token check (full authentication comes later).

With no token configured (``MIZZEN_TOKEN`` unset where the server runs) every request is accepted:
the embedded default serves only 127.0.0.1. With one, a request must carry
``Authorization: Bearer <that token>`` or the token of a run (what a run's own process holds).
"""

from __future__ import annotations

import hmac

from fastapi import Request

from mizzen.server.errors import Unauthorized


def require_token(request: Request) -> None:
    expected: str | None = request.app.state.settings.token
    if not expected:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        if hmac.compare_digest(token.encode(), expected.encode()):
            return
        if request.app.state.services.runs.token_is_valid(token):
            return
    raise Unauthorized("a valid bearer token is required (Authorization: Bearer TOKEN)")
