"""Printing for commands: rich for people, plain JSON (``--json``) for scripts."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "upstream_failed": "red",
    "stopped": "yellow",
    "stopping": "yellow",
    "skipped": "dim",
    "running": "cyan",
    "processing": "cyan",
    "retrying": "magenta",
    "warning": "magenta",
    "unschedulable": "magenta",
    "queued": "blue",
    "scheduled": "blue",
    "starting": "blue",
}


def styled_status(status: str) -> str:
    style = STATUS_STYLES.get(str(status), "")
    return f"[{style}]{status}[/{style}]" if style else str(status)


def print_json(data: Any) -> None:
    """JSON on stdout, whatever the terminal: pydantic models, lists of them and plain data."""
    sys.stdout.write(json.dumps(_plain(data), indent=2, default=str) + "\n")


def _plain(data: Any) -> Any:
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [_plain(item) for item in data]
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    return data


def when(moment: datetime | None) -> str:
    """A short local time: today's runs show the time only."""
    if moment is None:
        return "-"
    local = moment.astimezone()
    today = datetime.now().astimezone().date()
    return local.strftime("%H:%M:%S") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
