from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import IO, Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from mizzen.artifacts.store import READ_CHUNK
from mizzen.errors import InvalidInput
from mizzen.schemas.api import ArtifactRead, LineageCreate, LineageRead
from mizzen.server.responses import model_response, models_response, services
from mizzen.server.services.artifacts import too_large

router = APIRouter(prefix="/runs/{uuid}", tags=["artifacts"])


@router.put(
    "/artifacts/{path:path}",
    response_model=ArtifactRead,
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
)
async def upload_artifact(
    request: Request,
    uuid: str,
    path: str,
    content_md5: Annotated[str | None, Header(alias="Content-MD5")] = None,
) -> Response:
    """The raw body becomes the file ``path`` of the run's artifacts (replacing any file there),
    streamed to the store; over ``max_upload_bytes`` it is refused with 413 and nothing is stored."""
    artifacts = services(request).artifacts
    limit = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)  # before reading a byte of it
    relative = await run_in_threadpool(artifacts.check_upload_path, uuid, path)
    upload = await run_in_threadpool(artifacts.start_upload, uuid, relative, content_md5, limit)
    try:
        async for chunk in request.stream():
            await run_in_threadpool(upload.write, chunk)
        stored = await run_in_threadpool(upload.commit)
    except ClientDisconnect:
        await run_in_threadpool(upload.discard)
        raise InvalidInput(
            "the upload ended before its body was complete: nothing was stored", "body"
        ) from None
    except BaseException:
        await run_in_threadpool(upload.discard)
        raise
    return model_response(stored)


@router.get("/artifacts", response_model=list[ArtifactRead])
def list_artifacts(request: Request, uuid: str, prefix: str | None = None) -> Response:
    return models_response(services(request).artifacts.list_files(uuid, prefix))


@router.get("/artifacts/{path:path}", response_class=StreamingResponse)
def download_artifact(request: Request, uuid: str, path: str) -> StreamingResponse:
    stored, stream = services(request).artifacts.open(uuid, path)
    media_type = mimetypes.guess_type(stored.path)[0] or "application/octet-stream"
    return StreamingResponse(
        _chunks(stream), media_type=media_type, headers={"Content-Length": str(stored.size)}
    )


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(READ_CHUNK):
            yield chunk


@router.post("/lineage", response_model=list[LineageRead])
def record_lineage(request: Request, uuid: str, body: list[LineageCreate]) -> Response:
    return models_response(services(request).artifacts.record_lineage(uuid, body))


@router.get("/lineage", response_model=list[LineageRead])
def list_lineage(request: Request, uuid: str) -> Response:
    return models_response(services(request).artifacts.lineage(uuid))
