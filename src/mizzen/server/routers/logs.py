from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from mizzen.schemas.api import LogBatch, LogChunk
from mizzen.server.responses import model_response, services

router = APIRouter(prefix="/runs/{uuid}/logs", tags=["logs"])


@router.post("")
def append_logs(request: Request, uuid: str, body: LogBatch) -> dict[str, int]:
    return {"accepted": services(request).logs.append(uuid, body.lines)}


@router.get("", response_model=LogChunk)
def read_logs(
    request: Request,
    uuid: str,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    return model_response(services(request).logs.read(uuid, offset, limit))


@router.get("/stream", response_class=StreamingResponse)
async def stream_logs(
    request: Request, uuid: str, offset: Annotated[int, Query(ge=0, le=2**62)] = 0
) -> StreamingResponse:
    """ndjson ``LogLine`` objects, one per line, as the run writes them; ends when the run is done."""
    logs = services(request).logs
    await run_in_threadpool(logs.require_run, uuid)  # 404 now rather than inside the stream
    return StreamingResponse(logs.stream(uuid, offset), media_type="text/plain; charset=utf-8")
