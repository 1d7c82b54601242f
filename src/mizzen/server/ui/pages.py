"""The UI's pages: projects, a project's runs table, a run. Each reads through the same services as
the API's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from mizzen.errors import InvalidInput, NotFound
from mizzen.schemas.api import RunList, RunRead
from mizzen.server.responses import services
from mizzen.server.ui import views
from mizzen.server.ui.auth import require_ui_login
from mizzen.server.ui.templating import is_fragment, render

router = APIRouter(dependencies=[Depends(require_ui_login)], include_in_schema=False)


def not_found(request: Request, error: NotFound) -> HTMLResponse:
    return render(request, "not_found.html", {"message": str(error)}, status_code=404)


@router.get("/", response_class=HTMLResponse)
def projects_page(request: Request) -> HTMLResponse:
    projects = services(request).projects.activity()
    return render(request, "projects.html", {"projects": projects, "order": views.STATUS_ORDER})


@router.get("/projects/{name}", response_class=HTMLResponse)
def runs_page(
    request: Request,
    name: str,
    query: Annotated[str, Query(max_length=2000)] = "",
    sort: Annotated[str, Query(max_length=200)] = "-created_at",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    try:
        project = services(request).projects.get(name)
    except NotFound as missing:
        return not_found(request, missing)
    view = views.TableView(query=query.strip(), sort=sort.strip() or "-created_at", page=page)
    error: InvalidInput | None = None
    try:
        runs = services(request).runs.search(
            name, view.query or None, view.sort, views.PAGE_SIZE, view.offset
        )
    except InvalidInput as bad:
        error = bad
        runs = RunList(items=[], count=0, limit=views.PAGE_SIZE, offset=view.offset)
    context = {
        "project": project,
        "view": view,
        "runs": runs,
        "error": error,
        "pages": views.pages(runs.count),
        "sorts": views.SORTS,
        "live": any(not views.is_done(run.status) for run in runs.items),
    }
    fragment = is_fragment(request)
    context["oob"] = fragment  # the error (or none) goes under the box, outside the swapped table
    template = "_runs_table.html" if fragment else "runs.html"
    # A bad query is the client's: 400, shown under the box (htmx is told to swap a 400 in).
    return render(request, template, context, status_code=400 if error else 200)


@router.get("/runs/{uuid}", response_class=HTMLResponse)
def run_page(request: Request, uuid: str) -> HTMLResponse:
    try:
        run = services(request).runs.get(uuid)
    except NotFound as error:
        return not_found(request, error)
    return render(request, "run.html", run_context(run))


def run_context(run: RunRead) -> dict[str, object]:
    return {
        "run": run,
        "why": views.why(run),
        "timeline": views.timeline(run),
        "duration": views.run_duration(run),
        "metrics": sorted(m.name for m in run.metrics or []),
    }
