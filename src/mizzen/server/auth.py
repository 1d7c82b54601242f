"""The bearer-token checks (full authentication comes later).

With no token configured (``MIZZEN_TOKEN`` unset where the server runs) every request is accepted:
the embedded default serves only 127.0.0.1, and ``mizzen server`` refuses to listen further without
``--insecure``. With one, a request carries ``Authorization: Bearer <token>``:

- the server's token may do everything;
- a run's token (what a run's own process holds) acts on that run only: the routes of
  ``RUN_TOKEN_ROUTES`` with its own uuid, and ``POST /runs`` for a child of its own; anything else
  is 403, so one run cannot read, change or delete another;
- agent routes take the server's token only.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from mizzen.errors import Forbidden
from mizzen.schemas.api import API_PREFIX, RunCreate
from mizzen.server.errors import Unauthorized

# (method, route under the API prefix) a run's token may call with its own uuid. Not a pipeline's
# views (GET /runs/{uuid}/pipeline[/children]): they show other runs (its children), so they take
# the server's token, like GET /runs.
RUN_TOKEN_ROUTES = frozenset(
    {
        ("GET", "/runs/{uuid}"),
        ("PATCH", "/runs/{uuid}"),  # outputs, inputs, tags, meta (not its plan: see check_update)
        ("GET", "/runs/{uuid}/statuses"),
        ("POST", "/runs/{uuid}/statuses"),
        ("GET", "/runs/{uuid}/metrics"),
        ("POST", "/runs/{uuid}/metrics"),
        ("GET", "/runs/{uuid}/metrics/{name:path}"),
        ("GET", "/runs/{uuid}/logs"),
        ("POST", "/runs/{uuid}/logs"),
        ("GET", "/runs/{uuid}/logs/stream"),
        ("GET", "/runs/{uuid}/artifacts"),
        ("GET", "/runs/{uuid}/artifacts/{path:path}"),
        ("PUT", "/runs/{uuid}/artifacts/{path:path}"),
        ("GET", "/runs/{uuid}/lineage"),
        ("POST", "/runs/{uuid}/lineage"),
    }
)
CREATE_RUN = ("POST", "/runs")  # a run's token: children of its own run only (check_create)


def _bearer_token(request: Request) -> str:
    """The request's bearer token ("" when it carries none)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _is_server_token(token: str, expected: str) -> bool:
    return hmac.compare_digest(token.encode(), expected.encode())


def _route(request: Request) -> tuple[str, str]:
    path: str = getattr(request.scope.get("route"), "path", "")
    return request.method, path.removeprefix(API_PREFIX)


def calling_run(request: Request) -> str | None:
    """The uuid of the run whose token made this request; None for the server's token (or none)."""
    return getattr(request.state, "calling_run", None)


def require_token(request: Request) -> None:
    request.state.calling_run = None
    expected: str | None = request.app.state.settings.token
    if not expected:
        return
    token = _bearer_token(request)
    if token and _is_server_token(token, expected):
        return
    run_uuid = request.app.state.services.runs.run_of_token(token) if token else None
    if run_uuid is None:
        raise Unauthorized("a valid bearer token is required (Authorization: Bearer TOKEN)")
    request.state.calling_run = run_uuid
    route = _route(request)
    if route == CREATE_RUN:
        return  # the body says whose child it is: check_create
    if route in RUN_TOKEN_ROUTES and request.path_params.get("uuid") == run_uuid:
        return
    raise Forbidden(
        f"a run's token acts on its own run only (run {run_uuid}): {route[0]} {route[1]} is refused"
    )


def check_create(request: Request, body: RunCreate) -> None:
    """A run's token creates children of its own run only."""
    parent = calling_run(request)
    if parent is not None and body.parent_uuid != parent:
        raise Forbidden(f"a run's token creates only children of its own run: set parent_uuid to '{parent}'")


def check_update(request: Request, fields: set[str]) -> None:
    """A run may report on itself, not rewrite the plan its executor runs (a resume reuses it)."""
    if calling_run(request) is not None and "plan" in fields:
        raise Forbidden("a run's token cannot change its own plan")


def require_server_token(request: Request) -> None:
    """Agents act on every run: a run's own token (accepted elsewhere) is not enough there."""
    expected: str | None = request.app.state.settings.token
    if expected and not _is_server_token(_bearer_token(request), expected):
        if calling_run(request) is not None:
            raise Forbidden("agent routes need the server's token (MIZZEN_TOKEN), not a run's token")
        raise Unauthorized("agent routes need the server's token (MIZZEN_TOKEN), not a run's token")
