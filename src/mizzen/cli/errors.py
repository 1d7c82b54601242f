"""Turns every MizzenError into a clean message and exit code: no traceback ever reaches a user."""

from __future__ import annotations

import os
import sys

import typer

from mizzen.errors import MizzenError
from mizzen.extras import missing_extra


def run_app(app: typer.Typer) -> int:
    try:
        # Without standalone mode, click returns the code of a `typer.Exit(code)` instead of raising.
        result = app(standalone_mode=False)
    except MizzenError as exc:
        print_error(str(exc))
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print_error("aborted")
        return 130
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.exceptions.UsageError):
            exc.show()
            return 2
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        # Recent typer vendors its own click (typer._click): its usage errors are not click's classes.
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            return code
        if (missing := missing_extra(exc)) is not None:  # e.g. `mizzen agent` without kubernetes
            print_error(str(missing))
            return missing.exit_code
        if os.environ.get("MIZZEN_DEBUG"):
            raise
        print_error(f"internal error: {type(exc).__name__}: {exc}\n(set MIZZEN_DEBUG=1 for the traceback)")
        return 1
    return result if isinstance(result, int) else 0


def print_error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
