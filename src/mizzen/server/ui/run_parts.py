"""The run page's live parts (header, logs, metric data) and its actions, for htmx and ui.js."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from mizzen.errors import Conflict, InvalidTransition, MizzenError, NotFound
from mizzen.server.responses import model_response, services
from mizzen.server.ui.auth import require_htmx, require_ui_login
from mizzen.server.ui.pages import run_context
from mizzen.server.ui.templating import render

router = APIRouter(
    prefix="/ui/runs/{uuid}", dependencies=[Depends(require_ui_login)], include_in_schema=False
)
DOWNLOAD_BATCH = 10_000
MAX_CHART_POINTS = 20_000


@router.get("/header", response_class=HTMLResponse)
def header(request: Request, uuid: str) -> HTMLResponse:
    """Polled while the run is not done: status, duration, why, timeline."""
    return render(request, "_run_header.html", run_context(services(request).runs.get(uuid)))


@router.get("/logs/stream")
async def stream_logs(
    request: Request, uuid: str, offset: Annotated[int, Query(ge=0, le=2**62)] = 0
) -> StreamingResponse:
    """The API's log stream (ndjson lines as the run writes them; ends when the run is done)."""
    logs = services(request).logs
    await run_in_threadpool(logs.require_run, uuid)
    return StreamingResponse(logs.stream(uuid, offset), media_type="application/x-ndjson")


@router.get("/logs/download")
def download_logs(request: Request, uuid: str) -> StreamingResponse:
    logs = services(request).logs
    logs.require_run(uuid)

    def text() -> Iterator[bytes]:
        offset = 0
        while True:
            chunk = logs.read(uuid, offset, DOWNLOAD_BATCH)
            for line in chunk.lines:
                where = f"{line.container}/{line.replica}" if line.replica else line.container
                yield f"[{where}] {line.line}\n".encode()
            if not chunk.lines or chunk.next_offset <= offset:
                return
            offset = chunk.next_offset

    disposition = f'attachment; filename="{uuid}.log"'
    return StreamingResponse(
        text(), media_type="text/plain; charset=utf-8", headers={"Content-Disposition": disposition}
    )


@router.get("/metrics")
def metric_names(request: Request, uuid: str) -> list[str]:
    return sorted(summary.name for summary in services(request).metrics.summaries(uuid))


@router.get("/metrics/{name:path}")
def metric_points(
    request: Request,
    uuid: str,
    name: str,
    points: Annotated[int, Query(ge=2, le=MAX_CHART_POINTS)] = 1000,
) -> Response:
    """A history downsampled to about the chart's width (min and max of each bucket)."""
    return model_response(services(request).metrics.history(uuid, name, points))


def _action_failed(request: Request, error: MizzenError, status: int) -> HTMLResponse:
    headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
    return render(request, "_flash.html", {"message": str(error)}, status, **headers)


@router.post("/stop", response_class=HTMLResponse, dependencies=[Depends(require_htmx)])
def stop(request: Request, uuid: str) -> Response:
    try:
        run = services(request).runs.stop(uuid)
    except (Conflict, InvalidTransition) as error:
        return _action_failed(request, error, 409)
    return render(request, "_run_header.html", run_context(run))


@router.post("/restart", dependencies=[Depends(require_htmx)])
def restart(request: Request, uuid: str) -> Response:
    try:
        run = services(request).runs.clone(uuid, "restart", None)
    except (Conflict, InvalidTransition) as error:
        return _action_failed(request, error, 409)
    return Response(status_code=204, headers={"HX-Redirect": f"/runs/{run.uuid}"})


@router.post("/delete", dependencies=[Depends(require_htmx)])
def delete(request: Request, uuid: str) -> Response:
    try:
        project = services(request).runs.get(uuid).project
        services(request).runs.delete(uuid)
    except NotFound as error:
        return _action_failed(request, error, 404)
    return Response(status_code=204, headers={"HX-Redirect": f"/projects/{project}"})
