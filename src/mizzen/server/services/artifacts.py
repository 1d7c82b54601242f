"""Artifacts (files in the run's folder of the artifacts store) and lineage records."""

from __future__ import annotations

import base64
import hashlib
from typing import IO

from mizzen.artifacts.paths import safe_path
from mizzen.artifacts.store import ArtifactsStore, PendingWrite, StoredFile
from mizzen.errors import InvalidInput
from mizzen.runtime_env import TRACKING_DIR
from mizzen.schemas.api import ArtifactRead, LineageCreate, LineageRead
from mizzen.server.errors import TooLarge
from mizzen.server.services import convert
from mizzen.server.services.logs import LOGS_FOLDER
from mizzen.server.services.validation import check_storable
from mizzen.store import Database
from mizzen.store.gateway import lineage as lineage_gateway
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import LineageRecord

# Written by Mizzen itself, never by an upload, and left out of listings.
RESERVED = (f"{LOGS_FOLDER}/", f"{TRACKING_DIR}/")


def _read(stored: StoredFile) -> ArtifactRead:
    return ArtifactRead.model_construct(path=stored.path, size=stored.size, modified_at=stored.modified_at)


class Upload:
    """A request body on its way to the store, chunk by chunk: nothing is stored when it passes
    ``limit`` bytes (``TooLarge``) or does not match its optional Content-MD5."""

    def __init__(
        self, store: ArtifactsStore, run_uuid: str, relative: str, content_md5: str | None, limit: int
    ) -> None:
        self._store, self._run_uuid, self._relative = store, run_uuid, relative
        self._content_md5 = content_md5
        self._limit = limit
        self._size = 0
        self._digest = hashlib.md5(usedforsecurity=False)
        self._pending: PendingWrite = store.open_write(run_uuid, relative)

    def write(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise too_large(self._limit)
        self._digest.update(chunk)
        self._pending.write(chunk)

    def commit(self) -> ArtifactRead:
        digest = base64.b64encode(self._digest.digest()).decode()
        if self._content_md5 is not None and digest != self._content_md5.strip():
            raise InvalidInput("the body does not match its Content-MD5 header: nothing was stored", "body")
        self._pending.commit()
        return _read(self._store.stat(self._run_uuid, self._relative))

    def discard(self) -> None:
        self._pending.discard()


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"an upload stores at most {limit} bytes (MIZZEN_MAX_UPLOAD_BYTES on the server): nothing was stored"
    )


def _size(stream: IO[bytes]) -> int:
    end = stream.seek(0, 2)
    stream.seek(0)
    return end


class ArtifactService:
    def __init__(self, db: Database, store: ArtifactsStore) -> None:
        self.db = db
        self.store = store

    def _require_run(self, run_uuid: str) -> None:
        runs_gateway.require_run(self.db, run_uuid)

    def check_upload_path(self, run_uuid: str, path: str) -> str:
        """The normalised path of an upload, after checking the run exists and the path is allowed."""
        relative = safe_path(path)
        if f"{relative}/".startswith(RESERVED):
            raise InvalidInput(
                f"'{relative}' is reserved for Mizzen's own files (logs, tracking)", field="path"
            )
        self._require_run(run_uuid)
        return relative

    def start_upload(self, run_uuid: str, relative: str, content_md5: str | None, limit: int) -> Upload:
        """An upload of ``relative`` (already checked by ``check_upload_path``), streamed to the store."""
        return Upload(self.store, run_uuid, relative, content_md5, limit)

    def list_files(self, run_uuid: str, prefix: str | None) -> list[ArtifactRead]:
        self._require_run(run_uuid)
        relative = safe_path(prefix or "", field="prefix", allow_empty=True)
        return [
            _read(f)
            for f in self.store.list_files(run_uuid, relative)
            if not f"{f.path}/".startswith(RESERVED)
        ]

    def stat(self, run_uuid: str, path: str) -> StoredFile:
        relative = safe_path(path)
        self._require_run(run_uuid)
        return self.store.stat(run_uuid, relative)

    def open(self, run_uuid: str, path: str) -> tuple[StoredFile, IO[bytes]]:
        """A file to download and its size, from one open file (a link swapped in later is not read)."""
        relative = safe_path(path)
        self._require_run(run_uuid)
        self.store.stat(run_uuid, relative)  # folders and links answer here, before a stream starts
        stream = self.store.open_read(run_uuid, relative)
        try:
            size = _size(stream)
        except BaseException:
            stream.close()
            raise
        return StoredFile(relative, size, None), stream

    def record_lineage(self, run_uuid: str, items: list[LineageCreate]) -> list[LineageRead]:
        records = []
        for index, item in enumerate(items):
            path = safe_path(item.path, field=f"[{index}].path") if item.path is not None else None
            check_storable(item.summary, f"[{index}].summary")
            check_storable(item.name, f"[{index}].name")
            if len(item.name) > 255 or len(item.kind) > 32:
                raise InvalidInput("name has at most 255 characters, kind at most 32", f"[{index}]")
            records.append(LineageRecord(item.name, item.kind, path, item.summary, item.is_input))
        return [convert.lineage_read(r) for r in lineage_gateway.record_lineage(self.db, run_uuid, records)]

    def lineage(self, run_uuid: str) -> list[LineageRead]:
        return [convert.lineage_read(r) for r in lineage_gateway.list_lineage(self.db, run_uuid)]
