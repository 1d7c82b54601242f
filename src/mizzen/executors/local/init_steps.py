"""Init steps on this machine, in order, before the main container starts."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from mizzen.artifacts.connections import connection_store
from mizzen.artifacts.store import ArtifactsStore, StoreError
from mizzen.compiler.plan import RuntimeContext
from mizzen.executors.local.dockerfile import render_dockerfile
from mizzen.executors.local.git import GitCheckout
from mizzen.executors.local.outcome import CommandRunner, Emit, RunFailure, failed
from mizzen.executors.local.processes import exit_reason
from mizzen.render.local import InitSpec, ProcessSpec

logger = logging.getLogger(__name__)

AUTH_FILE = ".mizzenauth"  # {"token": ..., "host": ...}, like Polyaxon's .polyaxonauth


class InitRunner:
    def __init__(
        self,
        *,
        context: RuntimeContext,
        store: ArtifactsStore,
        api_host: str,
        token: str | None,
        run_command: CommandRunner,
        run_process: Callable[[ProcessSpec], int],
        emit: Emit,
        redact: Callable[[Iterable[str]], None],
        scratch: Path,
    ) -> None:
        self._context = context
        self._store = store
        self._api_host = api_host
        self._token = token
        self._run_process = run_process
        self._emit = emit
        self._checkout = GitCheckout(run_command, emit, redact, scratch)

    def run(self, spec: InitSpec) -> None:
        step = spec.step
        try:
            handler = getattr(self, f"_{step.kind}")
            handler(spec)
        except RunFailure:
            raise
        except (StoreError, OSError) as error:
            raise RunFailure(failed(f"init failed: {step.name}", f"{step.name}: {error}")) from None
        except Exception as error:  # fsspec back ends raise their own types (botocore, gcsfs, ...)
            logger.exception("init step %s failed", step.name)
            message = f"{step.name}: {type(error).__name__}: {error}"
            raise RunFailure(failed(f"init failed: {step.name}", message)) from None

    # -- one method per kind ------------------------------------------------------------------

    def _git(self, spec: InitSpec) -> None:
        self._checkout.fetch(spec)

    def _auth(self, spec: InitSpec) -> None:
        if not self._token:
            self._emit(
                "no run token: nothing to write (the API accepts this run without one)", spec.step.name
            )
            return
        folder = Path(spec.path)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / AUTH_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"token": self._token, "host": self._api_host}, handle)
        self._emit(f"wrote the run token to {path}", spec.step.name)

    def _file(self, spec: InitSpec) -> None:
        file = spec.step.file
        if file is None:
            raise RunFailure(failed(f"init failed: {spec.step.name}", f"{spec.step.name}: no file given"))
        path = Path(spec.path) / file.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content)
        if file.chmod:
            result = subprocess.run(
                ["chmod", file.chmod, str(path)], capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RunFailure(
                    failed(
                        f"init failed: {spec.step.name}",
                        f"{spec.step.name}: chmod {file.chmod}: {result.stderr.strip()}",
                    )
                )
        self._emit(f"wrote {path}", spec.step.name)

    def _dockerfile(self, spec: InitSpec) -> None:
        dockerfile = spec.step.dockerfile
        if dockerfile is None:
            raise RunFailure(
                failed(f"init failed: {spec.step.name}", f"{spec.step.name}: no dockerfile given")
            )
        path = Path(spec.path) / dockerfile.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_dockerfile(dockerfile))
        self._emit(f"wrote {path} (not built: local runs use this machine's environment)", spec.step.name)

    def _artifacts(self, spec: InitSpec) -> None:
        artifacts = spec.step.artifacts
        items: list[str | list[str]] = []
        if artifacts is not None:
            items += [*artifacts.files, *artifacts.dirs]
        self._copy(spec, [*items, *spec.step.paths])

    def _paths(self, spec: InitSpec) -> None:
        self._copy(spec, list(spec.step.paths))

    def _tensorboard(self, spec: InitSpec) -> None:
        tensorboard = spec.step.tensorboard
        if tensorboard is None:
            return
        if tensorboard.use_names:
            self._emit("use_names needs the run registry: folders are named by run uuid", spec.step.name)
        for uuid in tensorboard.uuids:
            source = f"{uuid}/outputs/tensorboard"
            if not self._store.exists(source):
                self._emit(f"run {uuid} has no tensorboard logs at {source}", spec.step.name)
                continue
            count = self._store.download(source, Path(spec.path) / uuid)
            self._emit(f"copied {count} files of run {uuid}'s tensorboard logs", spec.step.name)

    def _lineage(self, spec: InitSpec) -> None:
        lineage = spec.step.lineage or {}
        path = lineage.get("path")
        if not isinstance(path, str):
            refs = ", ".join(sorted(lineage)) or "an empty reference"
            raise RunFailure(
                failed(
                    f"init failed: {spec.step.name}",
                    f"{spec.step.name}: {refs} needs the run registry, which the local executor does not "
                    "read; use `paths: [<the artifact's path in the store>]` instead",
                    retryable=False,
                )
            )
        self._copy(spec, [path])

    def _container(self, spec: InitSpec) -> None:
        assert spec.process is not None
        code = self._run_process(spec.process)
        if code != 0:
            reason = exit_reason(code)
            raise RunFailure(
                failed(f"init failed: {spec.step.name}", f"init container {spec.step.name}: {reason}")
            )

    # -- copies from a store ------------------------------------------------------------------

    def _copy(self, spec: InitSpec, items: list[str | list[str]]) -> None:
        store = connection_store(spec.connection, spec.connection_env) if spec.connection else None
        for item in items:
            source, target = (
                (item[0], item[1]) if isinstance(item, list) and len(item) > 1 else (_first(item), None)
            )
            source_store, relative = self._locate(source, store)
            destination = Path(spec.path) / (target or _default_target(relative, source))
            count = source_store.download(relative, destination)
            self._emit(f"copied {source} ({count} files) to {destination}", spec.step.name)

    def _locate(self, source: str, store: ArtifactsStore | None) -> tuple[ArtifactsStore, str]:
        if store is not None:
            return store, source
        if "://" in source:
            return ArtifactsStore(source), ""
        root = self._context.store_path.rstrip("/")
        if source.startswith(f"{root}/"):  # a path as the workload sees the store
            return self._store, source[len(root) + 1 :]
        if source.startswith("/"):
            return ArtifactsStore("/"), source
        return self._store, source


def _first(item: str | list[str]) -> str:
    return item if isinstance(item, str) else item[0]


def _default_target(relative: str, source: str) -> str:
    if "://" in source or source.startswith("/"):
        return PurePosixPath(source.rstrip("/")).name
    return relative.strip("/")
