"""`mizzen run -u`: the local folder as the run's code.

The files are listed and checked (size, readable) before the run is created, so a folder that
cannot be uploaded makes no run. An upload that still fails (the server went away, a file vanished)
marks the run failed with the reason: a run never waits in ``created`` for code that will not come.
Ignored: VCS folders, virtualenvs, caches, and the patterns of ``.gitignore``, ``.mizzenignore`` and
``.polyaxonignore`` (gitignore syntax; a ``.gitignore`` in a subfolder applies under it).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mizzen.errors import ApiError, MizzenError
from mizzen.schemas.run_meta import UPLOAD_DONE, UPLOAD_KEY, UPLOAD_PENDING, UPLOADER_KEY

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from mizzen.client import MizzenClient

GIVE_UP_SECONDS = 60.0  # how long a failed upload keeps trying to mark its run failed
UPLOADS_FOLDER = "uploads"  # mizzen.scheduler.compile_run copies it into the run's context
IGNORE_FILES = (".gitignore", ".mizzenignore", ".polyaxonignore")
ALWAYS_IGNORED = (
    ".git/", ".hg/", ".svn/", ".venv/", "venv/", "__pycache__/", "*.pyc", ".mizzen/", ".mizzen-*",
    ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".ipynb_checkpoints/", "node_modules/", ".DS_Store",
)  # fmt: skip
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class CodeFolder:
    """The files of a folder that `-u` uploads, checked."""

    root: Path
    files: list[Path]
    total_bytes: int
    skipped_links: list[Path]  # links to folders or to anything outside ``root``: not uploaded


def check_code_folder(folder: Path) -> CodeFolder:
    """The code files under ``folder``; ``MizzenError`` naming the file or the size at fault."""
    skipped_links: list[Path] = []
    files = list(code_files(folder, skipped_links))
    total = 0
    for file in files:
        if not os.access(file, os.R_OK):
            raise MizzenError(
                f"{file}: cannot be read, so it cannot be uploaded as the run's code: make it readable "
                f"or list it in {folder / '.mizzenignore'}"
            )
        total += file.stat().st_size
    if total > MAX_UPLOAD_BYTES:
        raise MizzenError(
            f"{folder} holds {total / 2**20:.0f} MiB to upload (limit {MAX_UPLOAD_BYTES / 2**20:.0f} MiB): "
            f"list data folders in .mizzenignore (or .gitignore) and read them through an init step instead"
        )
    return CodeFolder(folder, files, total, skipped_links)


def pending_upload_meta() -> dict[str, str]:
    """The meta of a run whose code this process is about to upload: no scheduler claims it until
    the upload is done, and should this process die first, the next local scheduler fails the run
    (schemas.run_meta.UPLOADER_KEY) rather than leave it waiting for ever."""
    return {UPLOAD_KEY: UPLOAD_PENDING, UPLOADER_KEY: f"{socket.gethostname()}:{os.getpid()}:upload"}


def upload_code(client: MizzenClient, uuid: str, code: CodeFolder) -> int:
    """Upload the checked files as run ``uuid``'s code, then release the run. On failure the run is
    marked failed with the reason (stopped, on Ctrl-C) and the error raised again."""
    try:
        for file in code.files:
            client.artifacts.upload_file(
                uuid, file, f"{UPLOADS_FOLDER}/{file.relative_to(code.root).as_posix()}"
            )
        client.runs.update(uuid, meta={UPLOAD_KEY: UPLOAD_DONE})
    except KeyboardInterrupt:
        _give_up(client, uuid, None)
        raise
    except (ApiError, OSError, MizzenError) as error:
        _give_up(client, uuid, f"uploading {code.root} failed: {error}")
        raise MizzenError(f"run {uuid} failed: its code could not be uploaded: {error}") from None
    return len(code.files)


def _give_up(
    client: MizzenClient, uuid: str, reason: str | None, *, wait: Callable[[float], None] = time.sleep
) -> None:
    """End the run whose code did not arrive. A server that went away (restarting, say) is asked
    again for up to ``GIVE_UP_SECONDS``; if it never answers, say what is left to do."""
    from mizzen.cli.output import err_console
    from mizzen.client.errors import ApiUnreachable

    deadline, pause = time.monotonic() + GIVE_UP_SECONDS, 0.5
    while True:
        try:
            if reason is None:
                client.runs.stop(uuid)
            else:
                client.statuses.set(uuid, "failed", reason="UploadFailed", message=reason)
            return
        except ApiUnreachable as error:
            if time.monotonic() + pause > deadline:
                failure: ApiError = error
                break
            if pause == 0.5:
                err_console.print(
                    f"the server does not answer: trying for up to {GIVE_UP_SECONDS:.0f} s to mark run "
                    f"{uuid[:12]} failed (Ctrl-C to give up)",
                    soft_wrap=True,
                )
            wait(pause)
            pause = min(pause * 2, 8.0)
        except ApiError as error:
            failure = error
            break
    err_console.print(
        f"run {uuid} waits for its code, which will not come, and could not be marked as failed "
        f"({failure}): delete it with `mizzen ops delete {uuid[:12]}`",
        soft_wrap=True,
    )


def code_files(folder: Path, skipped_links: list[Path] | None = None) -> Iterator[Path]:
    """Files under ``folder`` that are code (see the module's docstring for what is left out). A
    link to a file inside ``folder`` is uploaded as that file; a link to a folder, or to anything
    outside ``folder`` (a credentials file, a data set), is not, and is added to ``skipped_links``."""
    skipped = skipped_links if skipped_links is not None else []
    yield from _walk(folder, folder, [(folder, _spec(ALWAYS_IGNORED))], folder.resolve(), skipped)


def _walk(
    root: Path,
    current: Path,
    specs: list[tuple[Path, GitIgnoreSpec]],
    resolved_root: Path,
    skipped: list[Path],
) -> Iterator[Path]:
    specs = [*specs, *_ignore_specs(current)]
    try:
        entries = sorted(os.scandir(current), key=lambda e: e.name)
    except OSError as error:
        raise MizzenError(f"{current}: cannot be listed, so it cannot be uploaded: {error}") from None
    for entry in entries:
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(path, is_dir, specs):
            continue
        if entry.is_symlink():
            target = path.resolve()
            if target.is_file() and target.is_relative_to(resolved_root):
                yield path
            else:
                skipped.append(path)
        elif is_dir:
            yield from _walk(root, path, specs, resolved_root, skipped)
        elif entry.is_file():
            yield path


def _ignore_specs(folder: Path) -> list[tuple[Path, GitIgnoreSpec]]:
    specs = []
    for name in IGNORE_FILES:
        ignore = folder / name
        if ignore.is_file():
            specs.append((folder, _spec(ignore.read_text(errors="replace").splitlines())))
    return specs


def _spec(lines: Iterator[str] | tuple[str, ...] | list[str]) -> GitIgnoreSpec:
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, GitIgnoreSpec]]) -> bool:
    ignored = False
    for base, spec in specs:  # later (deeper) files win, as in git
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        result = spec.check_file(relative)
        if result.include is not None:
            ignored = result.include
    return ignored
