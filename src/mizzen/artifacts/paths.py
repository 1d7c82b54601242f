"""Artifact paths as requests and runs name them: checked before they are joined to anything."""

from __future__ import annotations

from mizzen.errors import InvalidInput

MAX_PATH_LENGTH = 1024


def safe_path(path: str, field: str = "path", *, allow_empty: bool = False) -> str:
    """A normalised relative path inside a run folder, or ``InvalidInput`` naming ``field``.

    No absolute paths, no ``..``, no backslashes or NUL characters. Symbolic links inside the folder
    are the store's to refuse (``mizzen.artifacts.local``): a name alone cannot tell.
    """
    if "\x00" in path or "\\" in path:
        raise InvalidInput(f"'{path}' is not an artifact path: no backslashes or NUL characters", field=field)
    if path.startswith("/"):
        raise InvalidInput(f"'{path}' must be relative to the run's artifacts folder", field=field)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(f"'{path}' leaves the run's artifacts folder ('..' is not allowed)", field=field)
    if not parts and not allow_empty:
        raise InvalidInput("an artifact path cannot be empty", field=field)
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidInput(f"an artifact path has at most {MAX_PATH_LENGTH} characters", field=field)
    return "/".join(parts)


def run_folder(run_uuid: str) -> str:
    """The name of a run's folder in the store: one plain path segment."""
    if not run_uuid or "/" in run_uuid or "\\" in run_uuid or "\x00" in run_uuid or run_uuid in (".", ".."):
        raise InvalidInput(f"'{run_uuid}' is not a run uuid", field="uuid")
    return run_uuid
