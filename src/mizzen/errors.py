"""One error hierarchy for the whole product.

Every error a user can cause is a ``MizzenError``: the CLI prints its message (never a traceback)
and exits 1. Errors about a polyaxonfile carry where the problem is: file, line, column, field path.
"""

from __future__ import annotations

from dataclasses import dataclass


class MizzenError(Exception):
    """Base of every error Mizzen raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class SpecProblem:
    """One problem in a polyaxonfile, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    field_path: str | None = None  # e.g. "run.container.command"

    def render(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
        prefix = " ".join(p for p in (where, self.field_path) if p)
        return f"{prefix}: {self.message}" if prefix else self.message


class SpecError(MizzenError):
    """A polyaxonfile (or an SDK dict) is not valid: bad YAML, unknown key, wrong type..."""

    def __init__(self, problems: list[SpecProblem] | SpecProblem | str, hint: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [SpecProblem(problems)]
        elif isinstance(problems, SpecProblem):
            problems = [problems]
        self.problems: list[SpecProblem] = problems
        self.hint = hint
        lines = [p.render() for p in problems]
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))

    @property
    def first(self) -> SpecProblem:
        return self.problems[0]


class CompileError(SpecError):
    """The spec is well formed but cannot be compiled: missing params, unknown refs, DAG cycles..."""


class ExecutorError(MizzenError):
    """An executor could not do what was asked (start, stop, fetch logs)."""


class NotFound(MizzenError):
    exit_code = 1


class Conflict(MizzenError):
    exit_code = 1


class InvalidInput(MizzenError):
    """A value that is well formed but not acceptable; ``field`` names the request field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransition(MizzenError):
    """A run status change that the status machine does not allow."""

    def __init__(self, current: str, new: str) -> None:
        super().__init__(f"a run cannot go from '{current}' to '{new}'")
        self.current = current
        self.new = new


class ApiError(MizzenError):
    """The API answered with an error (or could not be reached)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Forbidden(MizzenError):
    """Authenticated, but not allowed: another run's data, a path outside the run's folder."""
