"""Mizzen's imports inside a user's process must find the installed packages, never a file of the
user's that happens to share a dependency's name.

Python puts the script's folder first on ``sys.path``: in a run whose code holds ``rich.py``, a
later ``import httpx`` (which imports ``rich``) would execute the user's script a second time. So the
client stack is imported once, in the thread that calls ``tracking.init()``, with the user's folders
moved behind the installed packages; the uploader thread then finds it in ``sys.modules``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def load_client_stack() -> None:
    """Import what talking to the API needs (httpx and its dependencies, Mizzen's client)."""
    with installed_packages_first():
        import httpx  # noqa: F401

        import mizzen.client  # noqa: F401


@contextmanager
def installed_packages_first() -> Iterator[None]:
    """Move the script's folder and the working folder (``''``) to the end of ``sys.path``.

    Other threads importing meanwhile would see the same order: call it where the user's code waits
    (``tracking.init()``), not from a background thread.
    """
    user_folders = _user_folders()
    saved = list(sys.path)
    mine = [entry for entry in saved if _resolved(entry) in user_folders]
    sys.path[:] = [entry for entry in saved if entry not in mine] + mine
    try:
        yield
    finally:
        sys.path[:] = saved


def _user_folders() -> set[str]:
    folders = {_resolved("")}
    script = sys.argv[0] if sys.argv else ""
    if script and script not in ("-c", "-m") and os.path.exists(script):
        folders.add(_resolved(os.path.dirname(script)))
    return folders


def _resolved(entry: str) -> str:
    return os.path.realpath(entry or os.curdir)
