"""Where a compile problem is: the file a (possibly referenced) component came from, and a field path.

A resolved operation mixes parts from several files (an operation, the component it references, a
hub component inside a DAG). Every part keeps a ``Where`` so that an error points at the file and the
line the user has to change, e.g. ``dag.yaml:14:9 run.operations[1].params.lr: expected a float``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mizzen.errors import CompileError, SpecProblem


class SourceMapped(Protocol):
    """What ``mizzen.spec`` gives for a loaded file (``Loaded``)."""

    def problem(self, field_path: str, message: str) -> SpecProblem: ...


def join(prefix: str, field: str | int) -> str:
    if isinstance(field, int):
        return f"{prefix}[{field}]"
    if not prefix:
        return field
    if not field:
        return prefix
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


@dataclass(frozen=True)
class Where:
    """A position inside one loaded file: the file's source map and a field path prefix."""

    loaded: SourceMapped | None = None
    prefix: str = ""
    label: str | None = None  # a file or URL to name when there is no source map

    def at(self, *fields: str | int) -> Where:
        prefix = self.prefix
        for field in fields:
            prefix = join(prefix, field)
        return Where(self.loaded, prefix, self.label)

    def problem(self, message: str, *fields: str | int) -> SpecProblem:
        path = self.at(*fields).prefix
        if self.loaded is not None:
            try:
                return self.loaded.problem(path, message)
            except Exception:  # a path the source map does not know: still say which file
                pass
        return SpecProblem(message=message, file=self.label, field_path=path or None)

    def error(self, message: str, *fields: str | int, hint: str | None = None) -> CompileError:
        return CompileError(self.problem(message, *fields), hint=hint)
