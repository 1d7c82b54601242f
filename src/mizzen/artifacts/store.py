"""The artifacts store (fsspec): a local folder by default, ``s3://bucket/prefix`` and others too.

One class for the server (run-scoped reads and writes of what requests name), the local executor and
the pods' init/sidecar commands (copies between the store and a local folder). Every run owns
``<root>/<run uuid>/``; a run-scoped path is checked by ``safe_path`` and, on a local disk, walked
without following links (``mizzen.artifacts.local``), so nothing outside the run's folder is read,
listed or written through it. Object stores have no links: the key's prefix is the confinement.
fsspec calls are blocking (s3fs runs its own event loop): call them from worker threads.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import shutil
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import fsspec
from fsspec.implementations.local import LocalFileSystem

from mizzen.artifacts import local
from mizzen.artifacts.paths import run_folder, safe_path
from mizzen.errors import ExecutorError, InvalidInput, NotFound
from mizzen.extras import missing_extra

READ_CHUNK = 1024 * 1024


class StoreError(ExecutorError):
    """The store cannot be opened, or a path asked of it is not there."""


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the run folder
    size: int
    modified_at: datetime | None


class ArtifactsStore:
    """A store root (``/data/artifacts``, ``s3://bucket/prefix``) and the file system behind it."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/") or "/"
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url, **dict(storage_options or {}))
        except (ImportError, ValueError) as error:
            missing = missing_extra(error)  # s3fs or gcsfs not installed: name the pip command
            raise StoreError(f"artifacts store {url!r} cannot be opened: {missing or error}") from None
        self.root = root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)

    @property
    def local_root(self) -> Path:
        if not self.is_local:
            raise StoreError(f"{self.url} is not a local folder")
        return Path(self.root or "/")

    # -- whole-store copies (the executor, init and sidecar containers) ---------------------------

    def _full(self, path: str) -> str:
        path = path.strip("/")
        return f"{self.root}/{path}" if path else self.root

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._full(path)))

    def download(self, path: str, destination: Path) -> int:
        """Copy a file or a folder (recursively) of the store to ``destination``; files copied."""
        source = self._full(path)
        self.fs.invalidate_cache()  # another client may have written it since we last listed
        if not self.fs.exists(source):
            raise StoreError(f"'{path}' is not in the artifacts store {self.url}")
        if self.fs.isfile(source):
            destination.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(source, str(destination))
            return 1
        count = 0
        for file in self.fs.find(source):
            relative = file[len(source.rstrip("/")) :].lstrip("/")
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(file, str(target))
            count += 1
        destination.mkdir(parents=True, exist_ok=True)
        return count

    def upload_folder(self, folder: Path, path: str) -> int:
        """Copy every file under a local ``folder`` to ``path`` in the store; files copied. Links are
        left behind: what they point to is not the run's to archive."""
        count = 0
        for relative, _status, source in local.folder_files(str(folder)):
            self.put_stream(source, f"{path}/{relative}")
            count += 1
        return count

    def put_stream(self, source: IO[bytes], path: str) -> None:
        """Copy an open file to ``path`` of the store (its folders made as needed)."""
        target = self._full(path)
        if self.is_local:
            self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
        with self.fs.open(target, "wb") as out:
            shutil.copyfileobj(source, out, READ_CHUNK)

    # -- one run's files (the server) -------------------------------------------------------------

    def run_root(self, run_uuid: str) -> str:
        return f"{self.root}/{run_folder(run_uuid)}"

    def _key(self, run_uuid: str, relative: str) -> str:
        """The object key of a run's file: always under the run's own prefix."""
        base = self.run_root(run_uuid)
        key = posixpath.normpath(f"{base}/{safe_path(relative)}")
        if not key.startswith(f"{base}/"):
            raise InvalidInput(f"'{relative}' leaves the run's artifacts folder", field="path")
        return key

    def open_write(self, run_uuid: str, relative: str) -> PendingWrite:
        """A file to write chunk by chunk; it appears at ``relative`` only on ``commit()``."""
        if self.is_local:
            return local.PendingFile(self.root, run_folder(run_uuid), safe_path(relative))
        return _PendingObject(self.fs, self._key(run_uuid, relative))

    def write_bytes(self, run_uuid: str, relative: str, data: bytes) -> None:
        self.write_stream(run_uuid, relative, io.BytesIO(data))

    def write_stream(self, run_uuid: str, relative: str, source: IO[bytes]) -> None:
        """Copy ``source`` to the store; readers never see a half-written file."""
        pending = self.open_write(run_uuid, relative)
        try:
            while chunk := source.read(READ_CHUNK):
                pending.write(chunk)
            pending.commit()
        except BaseException:
            pending.discard()
            raise

    def stat(self, run_uuid: str, relative: str) -> StoredFile:
        if self.is_local:
            found = local.lstat(self.root, run_folder(run_uuid), safe_path(relative))
            if not stat.S_ISREG(found.st_mode):
                raise NotFound(f"'{relative}' is a folder: list it with ?prefix={relative}")
            return StoredFile(relative, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))
        try:
            info = self.fs.info(self._key(run_uuid, relative))
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None
        if info.get("type") == "directory":
            raise NotFound(f"'{relative}' is a folder: list it with ?prefix={relative}")
        return StoredFile(relative, int(info.get("size") or 0), _modified(info))

    def open_read(self, run_uuid: str, relative: str) -> IO[bytes]:
        if self.is_local:
            return local.open_read(self.root, run_folder(run_uuid), safe_path(relative))
        try:
            return self.fs.open(self._key(run_uuid, relative), "rb")
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None

    def read_bytes(self, run_uuid: str, relative: str) -> bytes:
        with self.open_read(run_uuid, relative) as stream:
            return stream.read()

    def iter_bytes(self, run_uuid: str, relative: str) -> Iterator[bytes]:
        with self.open_read(run_uuid, relative) as stream:
            while chunk := stream.read(READ_CHUNK):
                yield chunk

    def list_files(self, run_uuid: str, prefix: str = "") -> list[StoredFile]:
        """Every file under ``prefix`` (recursively), sorted by path."""
        prefix = safe_path(prefix, field="prefix", allow_empty=True)
        if self.is_local:
            files = [
                StoredFile(path, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))
                for path, found in local.walk(self.root, run_folder(run_uuid), prefix)
            ]
            return sorted(files, key=lambda f: f.path)
        base = self.run_root(run_uuid)
        target = f"{base}/{prefix}" if prefix else base
        self.fs.invalidate_cache(target)
        try:
            found = self.fs.find(target, detail=True)
        except FileNotFoundError:
            return []
        files = []
        for found_name, info in found.items():
            name = found_name.rstrip("/")
            if info.get("type") == "directory" or not name.startswith(f"{base}/"):
                continue
            if name.endswith(local.PARTIAL_SUFFIX):  # an upload in progress
                continue
            files.append(StoredFile(name[len(base) + 1 :], int(info.get("size") or 0), _modified(info)))
        return sorted(files, key=lambda f: f.path)

    def delete_file(self, run_uuid: str, relative: str) -> None:
        if self.is_local:
            local.delete(self.root, run_folder(run_uuid), safe_path(relative))
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._key(run_uuid, relative))

    def delete_run(self, run_uuid: str) -> None:
        target = self.run_root(run_uuid)
        if self.is_local and Path(target).is_symlink():
            Path(target).unlink()  # never what a planted link points to
            return
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(target, recursive=True)  # shutil.rmtree locally: it does not follow links

    def copy_run(self, source_uuid: str, target_uuid: str, skip_prefixes: tuple[str, ...] = ()) -> int:
        """Copy a run's files into another run's folder; returns how many files were copied."""
        copied = 0
        for stored in self.list_files(source_uuid):
            if stored.path.startswith(skip_prefixes):
                continue
            with self.open_read(source_uuid, stored.path) as source:
                self.write_stream(target_uuid, stored.path, source)
            copied += 1
        return copied


class PendingWrite(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def discard(self) -> None: ...


class _PendingObject:
    """An object being uploaded: s3fs sends it on ``commit`` (or aborts its multipart upload)."""

    def __init__(self, fs: fsspec.AbstractFileSystem, key: str) -> None:
        self._out = fs.open(key, "wb")
        self._done = False

    def write(self, data: bytes) -> None:
        self._out.write(data)

    def commit(self) -> None:
        self._out.close()
        self._done = True

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
        self._out.discard()  # s3fs: aborts the multipart upload; nothing was sent otherwise
        self._out.closed = True  # close() must not send what was discarded


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None
