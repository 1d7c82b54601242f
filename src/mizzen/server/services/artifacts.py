"""Artifacts (files in the run's folder of the artifacts store) and lineage records."""

from __future__ import annotations

import base64
import hashlib
from typing import IO

from mizzen.artifacts.paths import safe_path
from mizzen.artifacts.store import ArtifactsStore, StoredFile
from mizzen.errors import InvalidInput
from mizzen.runtime_env import TRACKING_DIR
from mizzen.schemas.api import ArtifactRead, LineageCreate, LineageRead
from mizzen.server.services import convert
from mizzen.server.services.logs import LOGS_FOLDER
from mizzen.server.services.validation import check_storable
from mizzen.store import Database
from mizzen.store.repos import lineage as lineage_repo
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.lineage import LineageRecord

# Written by Mizzen itself, never by an upload, and left out of listings.
RESERVED = (f"{LOGS_FOLDER}/", f"{TRACKING_DIR}/")


def _read(stored: StoredFile) -> ArtifactRead:
    return ArtifactRead.model_construct(path=stored.path, size=stored.size, modified_at=stored.modified_at)


def _size(stream: IO[bytes]) -> int:
    end = stream.seek(0, 2)
    stream.seek(0)
    return end


class ArtifactService:
    def __init__(self, db: Database, store: ArtifactsStore) -> None:
        self.db = db
        self.store = store

    def _require_run(self, run_uuid: str) -> None:
        with self.db.read() as session:
            runs_repo.run_id_of(session, run_uuid)

    def check_upload_path(self, run_uuid: str, path: str) -> str:
        """The normalised path of an upload, after checking the run exists and the path is allowed."""
        relative = safe_path(path)
        if f"{relative}/".startswith(RESERVED):
            raise InvalidInput(
                f"'{relative}' is reserved for Mizzen's own files (logs, tracking)", field="path"
            )
        self._require_run(run_uuid)
        return relative

    def upload(
        self, run_uuid: str, relative: str, body: IO[bytes], content_md5: str | None = None
    ) -> ArtifactRead:
        """Store ``body`` (already complete, e.g. a spooled file) at ``relative``; nothing is stored when
        the optional Content-MD5 does not match."""
        if content_md5 is not None:
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := body.read(1024 * 1024):
                digest.update(chunk)
            if base64.b64encode(digest.digest()).decode() != content_md5.strip():
                raise InvalidInput(
                    "the body does not match its Content-MD5 header: nothing was stored", "body"
                )
            body.seek(0)
        self.store.write_stream(run_uuid, relative, body)
        return _read(self.store.stat(run_uuid, relative))

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
        with self.db.write() as session:
            run = runs_repo.get_run(session, run_uuid)
            return [convert.lineage_read(r) for r in lineage_repo.record_lineage(session, run, records)]

    def lineage(self, run_uuid: str) -> list[LineageRead]:
        with self.db.read() as session:
            run_id = runs_repo.run_id_of(session, run_uuid)
            return [convert.lineage_read(r) for r in lineage_repo.list_lineage(session, run_id)]
