"""What `mizzen run` sends: the compiled polyaxonfile as a new run, and the local code with `-u`."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.errors import MizzenError

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.compiler.compile import Compiled
    from mizzen.schemas.api import RunRead
    from mizzen.settings import Settings

UPLOADS_FOLDER = "uploads"  # mizzen.scheduler.compile_run copies it into the run's context
IGNORE_FILES = (".mizzenignore", ".polyaxonignore")
ALWAYS_IGNORED = (
    ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "*.pyc", ".mizzen", ".mizzen-*",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "node_modules", ".DS_Store",
)  # fmt: skip
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass
class Submission:
    files: list[Path]
    params: dict[str, str]
    project: str
    name: str | None
    description: str | None
    tags: list[str]
    queue: str | None
    upload: Path | None  # the folder `-u` uploads as the run's code


def compile_submission(submission: Submission, settings: Settings) -> Compiled:
    from mizzen.compiler.compile import compile_files
    from mizzen.connections_catalog import load_home_connections

    for file in submission.files:
        if not file.is_file():
            raise MizzenError(f"{file}: no such file")
    connections = load_home_connections(settings.home)
    return compile_files(submission.files, submission.params, settings, connections=connections)


def create_run(client: MizzenClient, submission: Submission, compiled: Compiled) -> RunRead:
    """Create the run; with ``-u`` it waits (meta upload=pending) until its code is uploaded."""
    from mizzen.cli.run_support import why_run_refuses
    from mizzen.schemas.api import RunCreate

    refusal = why_run_refuses(compiled)
    if refusal is not None or compiled.plan is None:
        raise MizzenError(refusal or "nothing to run")
    plan = compiled.plan
    inputs = {n: p.value for n, p in compiled.params.items() if p.kind == "input" and p.value is not None}
    body = RunCreate(
        project=submission.project,
        name=submission.name or plan.name,
        description=submission.description or plan.description,
        tags=sorted({*plan.tags, *submission.tags}),
        kind=plan.kind.value,
        content=_content(submission.files),
        spec=compiled.resolved.data,
        params=dict(submission.params),
        inputs=_jsonable(inputs),
        meta={"upload": "pending"} if submission.upload else {},
        queue=submission.queue or plan.queue,
    )
    return client.runs.create(body)


def upload_code(client: MizzenClient, uuid: str, folder: Path) -> int:
    """Upload ``folder`` (minus ignored files) as the run's code, then release the run."""
    files = list(code_files(folder))
    total = sum(f.stat().st_size for f in files)
    if total > MAX_UPLOAD_BYTES:
        raise MizzenError(
            f"{folder} holds {total / 1e6:.0f} MB to upload (limit {MAX_UPLOAD_BYTES / 1e6:.0f} MB): "
            f"list data folders in {IGNORE_FILES[0]} and read them through an init step instead"
        )
    for file in files:
        client.artifacts.upload_file(uuid, file, f"{UPLOADS_FOLDER}/{file.relative_to(folder).as_posix()}")
    client.runs.update(uuid, meta={"upload": "done"})
    return len(files)


def code_files(folder: Path) -> Iterator[Path]:
    """Files under ``folder`` that are code: skips VCS folders, virtualenvs, caches and the patterns
    of ``.mizzenignore`` / ``.polyaxonignore`` (one glob per line, ``#`` comments)."""
    patterns = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        ignore = folder / name
        if ignore.is_file():
            patterns += [
                line.strip().rstrip("/")
                for line in ignore.read_text().splitlines()
                if line.strip() and not line.startswith("#")
            ]
    for root, dirs, names in os.walk(folder):
        relative_root = Path(root).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not _ignored(relative_root / d, patterns))
        for name in sorted(names):
            path = relative_root / name
            if not _ignored(path, patterns):
                yield folder / path


def _ignored(path: Path, patterns: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, p) for p in patterns)


def _content(files: list[Path]) -> str:
    if len(files) == 1:
        return files[0].read_text()
    return "\n".join(f"# --- {file}\n{file.read_text()}" for file in files)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(values, default=str))
