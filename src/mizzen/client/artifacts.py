"""Run artifacts: upload a file or a folder, list, download (``/runs/{uuid}/artifacts``)."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from pydantic import TypeAdapter

from mizzen.client.http import Transport, path_of, path_segment
from mizzen.errors import MizzenError
from mizzen.schemas.api import ArtifactRead

_ARTIFACTS = TypeAdapter(list[ArtifactRead])
UPLOAD_TIMEOUT = 300.0


class ArtifactsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def upload_file(
        self, uuid: str, local_path: str | os.PathLike[str], dest: str | None = None
    ) -> ArtifactRead:
        """Streams one file to ``dest`` (a path relative to the run's artifacts; default: its name)."""
        source = Path(local_path)
        if not source.is_file():
            raise MizzenError(f"cannot upload '{source}': no such file")
        with source.open("rb") as stream:
            response = self._t.put(
                self._url(uuid, dest or source.name),
                content=stream,
                headers={"Content-Type": "application/octet-stream"},
                timeout=UPLOAD_TIMEOUT,
            )
        return ArtifactRead.model_validate(response.json())

    def upload_bytes(self, uuid: str, data: bytes, dest: str) -> ArtifactRead:
        response = self._t.put(
            self._url(uuid, dest), content=data, headers={"Content-Type": "application/octet-stream"}
        )
        return ArtifactRead.model_validate(response.json())

    def upload_dir(
        self, uuid: str, local_dir: str | os.PathLike[str], dest: str | None = None
    ) -> list[ArtifactRead]:
        """Uploads every file under ``local_dir`` to ``dest/<relative path>`` (default: the folder name)."""
        root = Path(local_dir)
        if not root.is_dir():
            raise MizzenError(f"cannot upload '{root}': no such folder")
        prefix = (dest if dest is not None else root.name).strip("/")
        uploaded = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = file.relative_to(root).as_posix()
            uploaded.append(self.upload_file(uuid, file, f"{prefix}/{relative}" if prefix else relative))
        return uploaded

    def list(self, uuid: str, prefix: str | None = None) -> builtins.list[ArtifactRead]:
        response = self._t.get(f"/runs/{path_segment(uuid)}/artifacts", params={"prefix": prefix})
        return _ARTIFACTS.validate_python(response.json())

    def download(self, uuid: str, path: str) -> bytes:
        return self._t.get(self._url(uuid, path), timeout=UPLOAD_TIMEOUT).content

    def download_to(self, uuid: str, path: str, target: str | os.PathLike[str]) -> Path:
        """Streams one artifact into the file ``target`` (parents created)."""
        destination = Path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".part")
        with (
            self._t.stream("GET", self._url(uuid, path), timeout=UPLOAD_TIMEOUT) as response,
            partial.open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                out.write(chunk)
        partial.replace(destination)
        return destination

    def download_dir(
        self, uuid: str, target_dir: str | os.PathLike[str], prefix: str | None = None
    ) -> builtins.list[Path]:
        """Downloads every artifact under ``prefix`` into ``target_dir``, keeping relative paths."""
        root = Path(target_dir)
        return [self.download_to(uuid, a.path, root / a.path) for a in self.list(uuid, prefix)]

    @staticmethod
    def _url(uuid: str, path: str) -> str:
        return f"/runs/{path_segment(uuid)}/artifacts/{path_of(path)}"
