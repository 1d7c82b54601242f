"""The artifacts store (fsspec): a local folder by default, ``s3://bucket/prefix`` and others too.

Every run owns ``<root>/<run uuid>/``. Paths coming from requests are checked by ``safe_path`` before
they are joined to anything: no absolute paths, no ``..``, no backslashes or NUL characters.
fsspec calls are blocking (s3fs runs its own event loop): call them from worker threads.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs

from mizzen.errors import InvalidInput, NotFound

READ_CHUNK = 1024 * 1024


def safe_path(path: str, field: str = "path", *, allow_empty: bool = False) -> str:
    """A normalised relative path inside a run folder, or ``InvalidInput`` naming ``field``."""
    if "\x00" in path or "\\" in path:
        raise InvalidInput(f"'{path}' is not an artifact path: no backslashes or NUL characters", field=field)
    if path.startswith("/"):
        raise InvalidInput(f"'{path}' must be relative to the run's artifacts folder", field=field)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(f"'{path}' leaves the run's artifacts folder ('..' is not allowed)", field=field)
    if not parts and not allow_empty:
        raise InvalidInput("an artifact path cannot be empty", field=field)
    if len(path) > 1024:
        raise InvalidInput("an artifact path has at most 1024 characters", field=field)
    return "/".join(parts)


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the run folder
    size: int
    modified_at: datetime | None


class ArtifactsStore:
    def __init__(self, url: str) -> None:
        self.url = url
        fs, root = url_to_fs(url)
        self.fs: fsspec.AbstractFileSystem = fs
        self.local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
        self.root = root.rstrip("/")
        if self.local:
            os.makedirs(self.root, exist_ok=True)

    def run_root(self, run_uuid: str) -> str:
        return f"{self.root}/{run_uuid}"

    def full_path(self, run_uuid: str, relative: str) -> str:
        return f"{self.run_root(run_uuid)}/{relative}" if relative else self.run_root(run_uuid)

    # -- writing ----------------------------------------------------------------------------------

    def write_bytes(self, run_uuid: str, relative: str, data: bytes) -> None:
        target = self.full_path(run_uuid, relative)
        if self.local:
            self._replace_local(target, lambda out: out.write(data))
        else:
            self.fs.pipe_file(target, data)

    def write_stream(self, run_uuid: str, relative: str, source: IO[bytes]) -> None:
        """Copy ``source`` to the store; readers never see a half-written file."""
        target = self.full_path(run_uuid, relative)
        if self.local:
            self._replace_local(target, lambda out: shutil.copyfileobj(source, out, READ_CHUNK))
        else:
            with self.fs.open(target, "wb") as out:
                shutil.copyfileobj(source, out, READ_CHUNK)

    def _replace_local(self, target: str, write: Any) -> None:
        if os.path.isdir(target):
            raise InvalidInput(f"'{target.rsplit('/', 1)[-1]}' is a folder of artifacts", field="path")
        os.makedirs(posixpath.dirname(target), exist_ok=True)
        partial = f"{target}.{uuidlib.uuid4().hex}.partial"
        try:
            with open(partial, "wb") as out:
                write(out)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)

    # -- reading ----------------------------------------------------------------------------------

    def stat(self, run_uuid: str, relative: str) -> StoredFile:
        target = self.full_path(run_uuid, relative)
        try:
            info = self.fs.info(target)
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None
        if info.get("type") == "directory":
            raise NotFound(f"'{relative}' is a folder: list it with ?prefix={relative}")
        return StoredFile(relative, int(info.get("size") or 0), _modified(info))

    def read_bytes(self, run_uuid: str, relative: str) -> bytes:
        try:
            return self.fs.cat_file(self.full_path(run_uuid, relative))
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None

    def iter_bytes(self, run_uuid: str, relative: str) -> Iterator[bytes]:
        with self.fs.open(self.full_path(run_uuid, relative), "rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                yield chunk

    def list_files(self, run_uuid: str, prefix: str = "") -> list[StoredFile]:
        """Every file under ``prefix`` (recursively), sorted by path."""
        base = self.run_root(run_uuid)
        target = self.full_path(run_uuid, prefix)
        self.fs.invalidate_cache(target)
        try:
            found = self.fs.find(target, detail=True)
        except FileNotFoundError:
            return []
        files = []
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            if name.endswith(".partial"):  # an upload in progress
                continue
            relative = name[len(base) :].lstrip("/") if name.startswith(base) else name.split(base, 1)[-1]
            files.append(StoredFile(relative, int(info.get("size") or 0), _modified(info)))
        return sorted(files, key=lambda f: f.path)

    def delete_file(self, run_uuid: str, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.full_path(run_uuid, relative))

    # -- whole runs -------------------------------------------------------------------------------

    def delete_run(self, run_uuid: str) -> None:
        target = self.run_root(run_uuid)
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(target, recursive=True)

    def copy_run(self, source_uuid: str, target_uuid: str, skip_prefixes: tuple[str, ...] = ()) -> int:
        """Copy a run's files into another run's folder; returns how many files were copied."""
        copied = 0
        for stored in self.list_files(source_uuid):
            if stored.path.startswith(skip_prefixes):
                continue
            if self.local:
                os.makedirs(posixpath.dirname(self.full_path(target_uuid, stored.path)), exist_ok=True)
            self.fs.copy(self.full_path(source_uuid, stored.path), self.full_path(target_uuid, stored.path))
            copied += 1
        return copied


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None
