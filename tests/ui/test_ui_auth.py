"""Who may use the UI: every UI route has a decision, and a token-protected server's pages need the
login cookie (made from the server's token only); actions need the UI's own htmx requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from mizzen.schemas.api import API_PREFIX
from mizzen.settings import Settings

TOKEN = "server-secret"
PROTECTED = {
    ("GET", "/"),
    ("GET", "/projects/{name}"),
    ("GET", "/runs/{uuid}"),
    ("GET", "/ui/runs/{uuid}/header"),
    ("GET", "/ui/runs/{uuid}/logs/stream"),
    ("GET", "/ui/runs/{uuid}/logs/download"),
    ("GET", "/ui/runs/{uuid}/metrics"),
    ("GET", "/ui/runs/{uuid}/metrics/{name:path}"),
    ("POST", "/ui/runs/{uuid}/stop"),
    ("POST", "/ui/runs/{uuid}/restart"),
    ("POST", "/ui/runs/{uuid}/delete"),
}
ACTIONS = {(m, p) for m, p in PROTECTED if m == "POST"}
OPEN = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


def _routes(routers: Any) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, Route)
        for method in route.methods or set()
    }


@pytest.fixture
def secured(
    settings: Settings, serve_app: Callable[[Any], AbstractContextManager[str]]
) -> Iterator[tuple[str, Any]]:
    from mizzen.server.app import create_app

    app = create_app(settings.model_copy(update={"token": TOKEN}))
    try:
        with serve_app(app) as base:
            yield base, app
    finally:
        app.state.services.close()


def _run(base: str) -> str:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    created = httpx.post(f"{base}/api/v1/runs", json={"project": "p", "managed": False}, headers=headers)
    assert created.status_code == 201, created.text
    uuid: str = created.json()["uuid"]
    return uuid


def _url(base: str, path: str, uuid: str) -> str:
    return base + path.replace("{uuid}", uuid).replace("{name:path}", "loss").replace("{name}", "p")


def _login(base: str, token: str = TOKEN, next: str = "/") -> httpx.Response:
    return httpx.post(f"{base}/login", data={"token": token, "next": next}, follow_redirects=False)


def test_every_ui_route_has_a_decision() -> None:
    from mizzen.server.ui import OPEN_ROUTERS, PROTECTED_ROUTERS
    from mizzen.server.ui.auth import require_ui_login

    assert _routes(PROTECTED_ROUTERS) == PROTECTED
    assert _routes(OPEN_ROUTERS) == OPEN
    for router in PROTECTED_ROUTERS:
        assert next(d.dependency for d in router.dependencies) is require_ui_login
        assert not router.prefix.startswith(API_PREFIX)


def test_without_the_cookie_pages_go_to_the_login_and_htmx_is_told_to(secured: tuple[str, Any]) -> None:
    base, _app = secured
    uuid = _run(base)
    for method, path in sorted(PROTECTED):
        url = _url(base, path, uuid)
        answer = httpx.request(method, url, follow_redirects=False)
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login?next=%2F"), answer.headers["location"]
        htmx = httpx.request(method, url, headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login?next="), path
        forged = httpx.request(method, url, cookies={"mizzen_ui": TOKEN}, follow_redirects=False)
        assert forged.status_code == 303, path  # the cookie is an HMAC of the token, not the token


def test_the_login_cookie_opens_every_page(secured: tuple[str, Any]) -> None:
    base, _app = secured
    uuid = _run(base)
    login = _login(base, next=f"/runs/{uuid}")
    assert login.status_code == 303 and login.headers["location"] == f"/runs/{uuid}"
    cookie = login.cookies["mizzen_ui"]
    assert TOKEN not in cookie
    set_cookie = login.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    with httpx.Client(
        base_url=base, cookies={"mizzen_ui": cookie}, headers={"HX-Request": "true"}
    ) as browser:
        for method, path in sorted(PROTECTED - {("POST", "/ui/runs/{uuid}/delete")}):
            with browser.stream(method, _url(base, path, uuid).removeprefix(base)) as answer:
                # past the login: 404 no metric "loss", 409 no polyaxonfile to restart; a stream: headers
                assert answer.status_code in (200, 204, 404, 409), (method, path, answer.status_code)
        assert browser.post(f"/ui/runs/{uuid}/delete").status_code == 204
    # The cookie opens the UI, not the API: scripts use the token itself.
    assert httpx.get(f"{base}/api/v1/runs", cookies={"mizzen_ui": cookie}).status_code == 401


def test_a_wrong_token_or_a_runs_token_does_not_log_in(secured: tuple[str, Any]) -> None:
    base, _app = secured
    wrong = _login(base, token="guess")
    assert wrong.status_code == 401 and "mizzen_ui" not in wrong.cookies
    assert "not this server" in wrong.text
    headers = {"Authorization": f"Bearer {TOKEN}"}
    run_token = httpx.post(f"{base}/api/v1/runs", json={"project": "p"}, headers=headers).json()["token"]
    assert run_token and _login(base, token=run_token).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", ""])
def test_login_returns_only_to_a_page_of_this_server(secured: tuple[str, Any], target: str) -> None:
    base, _app = secured
    assert _login(base, next=target).headers["location"] == "/"


def test_logout_forgets_the_cookie(secured: tuple[str, Any]) -> None:
    base, _app = secured
    out = httpx.post(f"{base}/logout", follow_redirects=False)
    assert out.status_code == 303 and 'mizzen_ui=""' in out.headers["set-cookie"]


def test_actions_need_the_uis_own_requests_even_without_a_token(api_server: str) -> None:
    """A page on another site can post a form to 127.0.0.1, not add the HX-Request header."""
    run = httpx.post(f"{api_server}/api/v1/runs", json={"project": "p", "managed": False}).json()
    for _method, path in sorted(ACTIONS):
        answer = httpx.post(_url(api_server, path, run["uuid"]), follow_redirects=False)
        assert answer.status_code == 403, path
        assert "HX-Request" in answer.json()["message"]
    assert httpx.get(f"{api_server}/api/v1/runs/{run['uuid']}").json()["status"] == "created"  # untouched


def test_without_a_token_the_ui_is_open_and_the_login_page_steps_aside(api_server: str) -> None:
    assert httpx.get(f"{api_server}/").status_code == 200
    login = httpx.get(f"{api_server}/login?next=/projects/x", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/projects/x"
