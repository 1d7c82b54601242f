"""Asking before doing something that cannot be undone (delete, stop)."""

from __future__ import annotations

import sys

import typer


def confirm_or_refuse(question: str, *, yes: bool, action: str) -> None:
    """Returns when the user agreed (or passed ``--yes``). Without a terminal to ask on, refuses with a
    clear message rather than guessing; a "no" ends the command with exit code 1."""
    from mizzen.errors import MizzenError

    if yes:
        return
    if not sys.stdin.isatty():
        raise MizzenError(
            f"not {action} without confirmation: stdin is not a terminal; pass --yes to confirm"
        )
    if not typer.confirm(question, default=False):
        sys.stderr.write("Cancelled: nothing was done.\n")
        raise typer.Exit(1)
