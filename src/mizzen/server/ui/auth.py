"""Who may use the web UI: the same server token as the API, carried by a cookie.

A browser cannot add ``Authorization: Bearer`` to a link or a page load, so on a server with a token
(``MIZZEN_TOKEN``) the UI asks for it once on ``/login`` and sets a cookie. The cookie holds an HMAC
of the token, not the token: a leaked cookie opens the UI, not the API (which wants the token
itself). It is HttpOnly and SameSite=Strict. Only the server's token logs in; a run's token does not.

Actions (POST) also need the ``HX-Request`` header that htmx sends: a page on another site can make
a browser post a form here (the embedded server listens on 127.0.0.1 without a token), but cannot add
a custom header without a CORS preflight, which this server never grants.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from mizzen.errors import Forbidden

COOKIE = "mizzen_ui"
COOKIE_DAYS = 30
LOGIN_URL = "/login"


class LoginRequired(Exception):
    """The request carries no valid UI cookie on a server with a token."""


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"mizzen-ui-session", hashlib.sha256).hexdigest()


def server_token(request: Request) -> str | None:
    token: str | None = request.app.state.settings.token
    return token or None


def is_logged_in(request: Request) -> bool:
    token = server_token(request)
    if token is None:
        return True
    return hmac.compare_digest(request.cookies.get(COOKIE, ""), cookie_value(token))


def require_ui_login(request: Request) -> None:
    if not is_logged_in(request):
        raise LoginRequired


def require_htmx(request: Request) -> None:
    """Actions come from the UI's own pages (see the module's note on cross-site posts)."""
    if request.headers.get("hx-request") != "true":
        raise Forbidden("UI actions are sent by the UI's pages (HX-Request header); scripts use the API")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"{LOGIN_URL}?next={quote(safe_next(target), safe='')}"
    if request.headers.get("hx-request") == "true":  # htmx follows HX-Redirect with a full page load
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie_value(token),
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def token_matches(request: Request, given: str) -> bool:
    token = server_token(request)
    return token is not None and hmac.compare_digest(given.encode(), token.encode())
