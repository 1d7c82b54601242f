"""A run's folder on a local disk, walked one folder at a time through file descriptors.

A run writes its own folder, so it can plant a symbolic link there (``model.bin -> /etc/passwd``,
``outputs -> ../<another run>``, ``logs -> ~/.mizzen``). Every folder below the store root is
opened with ``O_NOFOLLOW`` relative to its parent's descriptor, and the last name too: a link met
anywhere is refused (``Forbidden``), and swapping a folder for a link between a check and a use
cannot help, since nothing is looked up by path twice.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid as uuidlib
from collections.abc import Iterator
from typing import IO

from mizzen.errors import Forbidden, InvalidInput, NotFound

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
PARTIAL_SUFFIX = ".partial"


def _outside(shown: str) -> Forbidden:
    return Forbidden(
        f"'{shown}' is a symbolic link: artifacts are read and written only inside the run's folder"
    )


def _open_folder(parent: int, name: str, shown: str, *, create: bool) -> int:
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=parent)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        raise NotFound(f"no artifact folder '{shown}'") from None
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
    if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
        raise _outside(shown)
    raise InvalidInput(f"'{shown}' is a file, not a folder", field="path")


@contextlib.contextmanager
def folder_fd(root: str, folders: list[str], *, create: bool = False) -> Iterator[int]:
    """The descriptor of ``root/folders[0]/...``; ``root`` (the store root) may itself be a link."""
    if create:
        os.makedirs(root, exist_ok=True)
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound("no artifacts are stored yet") from None
    try:
        for depth, name in enumerate(folders):
            child = _open_folder(fd, name, "/".join(folders[1 : depth + 1]) or ".", create=create)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _split(run_uuid: str, relative: str) -> tuple[list[str], str]:
    *folders, name = relative.split("/")
    return [run_uuid, *folders], name


def lstat(root: str, run_uuid: str, relative: str) -> os.stat_result:
    """The file's own status; ``NotFound`` when absent, ``Forbidden`` for a link."""
    folders, name = _split(run_uuid, relative)
    with folder_fd(root, folders) as parent:
        try:
            found = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None
    if stat.S_ISLNK(found.st_mode):
        raise _outside(relative)
    return found


def open_read(root: str, run_uuid: str, relative: str) -> IO[bytes]:
    folders, name = _split(run_uuid, relative)
    with folder_fd(root, folders) as parent:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except FileNotFoundError:
            raise NotFound(f"run '{run_uuid}' has no artifact '{relative}'") from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise _outside(relative) from None
            raise
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise NotFound(f"'{relative}' is a folder: list it with ?prefix={relative}")
    return handle


class PendingFile:
    """A new file of a run's folder, written under a temporary name in its final folder; ``commit``
    renames it into place (readers never see a half-written file), ``discard`` leaves no trace. A
    link at the final name is refused, never followed."""

    def __init__(self, root: str, run_uuid: str, relative: str) -> None:
        folders, self._name = _split(run_uuid, relative)
        with folder_fd(root, folders, create=True) as parent:
            self._parent = os.dup(parent)
        try:
            with contextlib.suppress(FileNotFoundError):
                existing = os.stat(self._name, dir_fd=self._parent, follow_symlinks=False).st_mode
                if stat.S_ISLNK(existing):
                    raise _outside(relative)
                if stat.S_ISDIR(existing):
                    raise InvalidInput(f"'{relative}' is a folder of artifacts", field="path")
            self._partial = f"{self._name}.{uuidlib.uuid4().hex}{PARTIAL_SUFFIX}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            self._out = os.fdopen(os.open(self._partial, flags, 0o644, dir_fd=self._parent), "wb")
        except BaseException:
            os.close(self._parent)
            raise

    def write(self, data: bytes) -> None:
        self._out.write(data)

    def commit(self) -> None:
        try:
            self._out.close()
            os.replace(self._partial, self._name, src_dir_fd=self._parent, dst_dir_fd=self._parent)
        finally:
            self.discard()

    def discard(self) -> None:
        if self._parent < 0:
            return
        self._out.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._partial, dir_fd=self._parent)
        os.close(self._parent)
        self._parent = -1


def delete(root: str, run_uuid: str, relative: str) -> None:
    """Remove a file (a link itself, never what it points to)."""
    folders, name = _split(run_uuid, relative)
    with contextlib.suppress(NotFound, FileNotFoundError), folder_fd(root, folders) as parent:
        os.unlink(name, dir_fd=parent)


def walk(root: str, run_uuid: str, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
    """(path relative to the run folder, status) of each regular file under ``prefix``; links and
    what is behind them are left out, folder links are not entered."""
    parts = [p for p in prefix.split("/") if p]
    try:
        with folder_fd(root, [run_uuid, *parts[:-1]]) as parent:
            if parts:
                last = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
                if stat.S_ISREG(last.st_mode):
                    yield prefix, last
                    return
                if stat.S_ISLNK(last.st_mode):
                    raise _outside(prefix)
                top = os.open(parts[-1], _DIR_FLAGS, dir_fd=parent)
            else:
                top = os.dup(parent)
    except (NotFound, FileNotFoundError, NotADirectoryError):
        return
    try:
        for folder, _dirs, files, folder_fd_ in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in files:
                if name.endswith(PARTIAL_SUFFIX):
                    continue  # still being written
                try:
                    found = os.stat(name, dir_fd=folder_fd_, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed or renamed since it was listed (a log chunk merged, say)
                if stat.S_ISREG(found.st_mode):
                    inner = os.path.normpath(f"{folder}/{name}")
                    yield "/".join([*parts, inner]), found
    finally:
        os.close(top)


def folder_files(folder: str) -> Iterator[tuple[str, os.stat_result, IO[bytes]]]:
    """(relative path, status, open file) of each regular file under a run's local ``folder``, for
    copying it to a store. Links are skipped and folder links not entered, and each file is opened
    without following a link: what a run links to is not the run's to archive. The file is closed
    when the iteration moves on."""
    try:
        top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return
    try:
        for here, _dirs, files, here_fd in os.fwalk(".", dir_fd=top, follow_symlinks=False):
            for name in sorted(files):
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=here_fd)
                except OSError:
                    continue  # a link (ELOOP), or removed since it was listed
                with os.fdopen(fd, "rb") as handle:
                    found = os.fstat(fd)
                    if stat.S_ISREG(found.st_mode) and not name.endswith(PARTIAL_SUFFIX):
                        yield os.path.normpath(f"{here}/{name}"), found, handle
    finally:
        os.close(top)
