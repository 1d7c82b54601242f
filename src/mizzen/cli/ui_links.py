"""Links into the web UI from the command line: where a run's page is, and opening a browser."""

from __future__ import annotations

import os
import sys

DEFAULT_UI = "http://127.0.0.1:8000"  # where `mizzen ui` listens by default


def run_page(base: str, uuid: str) -> str:
    return f"{base.rstrip('/')}/runs/{uuid}"


def has_browser() -> bool:
    """A graphical browser can open: macOS, Windows, or a Linux/BSD desktop session. Never a text
    browser in a terminal (webbrowser would pick lynx over SSH and take the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str) -> bool:
    if not has_browser():
        return False
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False
