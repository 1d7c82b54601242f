"""Artifacts stores through fsspec: a local folder, S3 (s3fs), or anything else fsspec knows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from mizzen.compiler.plan import ConnectionPlan
from mizzen.errors import ExecutorError
from mizzen.extras import missing_extra

_LOCAL_PROTOCOLS = ("file", "local")


class StoreError(ExecutorError):
    pass


class ArtifactsStore:
    """A store root (``/data/artifacts``, ``s3://bucket/prefix``) and the file system behind it."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/") or "/"
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url, **dict(storage_options or {}))
        except (ImportError, ValueError) as error:
            missing = missing_extra(error)
            raise StoreError(f"artifacts store {url!r} cannot be opened: {missing or error}") from None
        self.root = root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)

    @property
    def local_root(self) -> Path:
        if not self.is_local:
            raise StoreError(f"{self.url} is not a local folder")
        return Path(self.root)

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
        """Copy every file under a local ``folder`` to ``path`` in the store; files copied."""
        count = 0
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                target = self._full(f"{path}/{file.relative_to(folder).as_posix()}")
                self.fs.put_file(str(file), target)
                count += 1
        return count


def connection_store(connection: ConnectionPlan, env: Mapping[str, str]) -> ArtifactsStore:
    """The store a connection (s3, gcs, host_path, ...) points at, with its credentials from env."""
    schema = connection.schema_
    kind = connection.kind
    if kind in ("host_path", "volume_claim"):
        folder = schema.get("hostPath") or schema.get("host_path") or schema.get("mountPath")
        if not folder:
            raise StoreError(f"connection '{connection.name}' ({kind}) has no hostPath/mountPath")
        return ArtifactsStore(str(folder))
    bucket = str(schema.get("bucket") or "")
    if not bucket:
        raise StoreError(f"connection '{connection.name}' ({kind}) has no bucket in its schema")
    if kind == "s3":
        url = bucket if "://" in bucket else f"s3://{bucket}"
        return ArtifactsStore(url, s3_options(env, schema))
    if kind == "gcs":
        return ArtifactsStore(bucket if "://" in bucket else f"gs://{bucket}")
    if kind == "wasb":
        return ArtifactsStore(bucket if "://" in bucket else f"az://{bucket}")
    raise StoreError(f"connection '{connection.name}' of kind '{kind}' is not an artifacts store")


def s3_options(env: Mapping[str, str], schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """s3fs options from the AWS_* variables of a connection (never the caller's, implicitly)."""
    schema = schema or {}
    options: dict[str, Any] = {}
    if env.get("AWS_ACCESS_KEY_ID"):
        options["key"] = env["AWS_ACCESS_KEY_ID"]
        options["secret"] = env.get("AWS_SECRET_ACCESS_KEY", "")
    if env.get("AWS_SESSION_TOKEN"):
        options["token"] = env["AWS_SESSION_TOKEN"]
    endpoint = (
        env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
        or env.get("AWS_S3_ENDPOINT_URL")
        or schema.get("endpointUrl")
        or schema.get("endpoint_url")
    )
    if endpoint:
        options["endpoint_url"] = endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["client_kwargs"] = {"region_name": region}
    return options
