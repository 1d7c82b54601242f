"""``/login`` and ``/logout``: the UI's token cookie (see ``ui.auth``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mizzen.server.ui import auth
from mizzen.server.ui.templating import render

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 8192


@router.get(auth.LOGIN_URL, response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    if auth.server_token(request) is None or auth.is_logged_in(request):
        return RedirectResponse(auth.safe_next(next), status_code=303)
    return render(request, "login.html", {"next": auth.safe_next(next), "error": None})


@router.post(auth.LOGIN_URL, response_class=HTMLResponse)
async def login(request: Request) -> Response:
    body = (await request.body())[:MAX_FORM_BYTES]  # a form post: token=...&next=...
    form = {key: values[0] for key, values in parse_qs(body.decode(errors="replace")).items()}
    target = auth.safe_next(form.get("next"))
    token = form.get("token", "").strip()
    if not auth.token_matches(request, token):
        error = "That is not this server's token (the MIZZEN_TOKEN that `mizzen server` runs with)."
        context = {"next": target, "error": error}
        return render(request, "login.html", context, status_code=401)
    response = RedirectResponse(target, status_code=303)
    auth.set_login_cookie(response, request, token)
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse(auth.LOGIN_URL, status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response
