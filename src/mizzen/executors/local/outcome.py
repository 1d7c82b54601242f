"""How an attempt at a run ended, and the exception that carries it out of deep code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mizzen.schemas.statuses import RunStatus


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    reason: str | None = None  # short: "exit code 3", "killed: timeout after 2s"
    message: str | None = None  # what a human reads in the conditions
    retryable: bool = True  # False: a retry cannot help (stopped, timed out, command not found)


def failed(reason: str, message: str | None = None, *, retryable: bool = True) -> Outcome:
    return Outcome(RunStatus.FAILED, reason, message or reason, retryable)


class RunFailure(Exception):
    """Ends the current attempt with ``outcome`` (init step failed, stop or timeout during init)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message or outcome.reason or str(outcome.status))
        self.outcome = outcome


class CommandRunner(Protocol):
    """Runs a helper command of an init step to its end; stop and timeout interrupt it."""

    def __call__(self, argv: list[str], env: dict[str, str], cwd: str, container: str) -> int: ...


Emit = Callable[[str, str], None]  # (line, container)
