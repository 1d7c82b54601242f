"""Where each field of a loaded polyaxonfile was written: field path -> file, line, column."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic.alias_generators import to_camel

PathPart = str | int
FieldPath = tuple[PathPart, ...]

_SIMPLE_KEY = re.compile(r"^[A-Za-z_][-A-Za-z0-9_]*$")
_PATH_TOKEN = re.compile(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.\[\]]+)')


def format_path(path: Iterable[PathPart]) -> str:
    """``("run", "init", 0, "git")`` -> ``run.init[0].git``.

    Keys that are not plain names are quoted: ``limits["nvidia.com/gpu"]``.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out += f'["{escaped}"]'
    return out


def parse_path(path: str | Iterable[PathPart]) -> FieldPath:
    """The inverse of :func:`format_path`; a tuple is returned as is."""
    if not isinstance(path, str):
        return tuple(path)
    parts: list[PathPart] = []
    for index, quoted, plain in _PATH_TOKEN.findall(path):
        if index:
            parts.append(int(index))
        elif quoted:
            parts.append(quoted.replace('\\"', '"').replace("\\\\", "\\"))
        elif plain:
            parts.append(plain)
    return tuple(parts)


@dataclass(frozen=True)
class Mark:
    """Position of one field: where its value starts and, for mapping entries, where its key is."""

    file: str | None
    line: int  # 1-based
    column: int  # 1-based
    key_line: int | None = None
    key_column: int | None = None


Location = tuple[str | None, int | None, int | None]


class SourceMap:
    """Field path -> :class:`Mark`. Paths use the keys as written in the file.

    ``make``, when given, makes the marks the first time they are read: most loaded files are
    never asked for a position, so their marks are never made.
    """

    def __init__(
        self,
        file: str | None = None,
        marks: dict[FieldPath, Mark] | None = None,
        *,
        make: Callable[[], dict[FieldPath, Mark]] | None = None,
    ) -> None:
        self.file = file
        self._marks: dict[FieldPath, Mark] = marks if marks is not None else {}
        self._make = make

    @property
    def marks(self) -> dict[FieldPath, Mark]:
        if self._make is not None:
            make, self._make = self._make, None
            self._marks = make()
        return self._marks

    def add(self, path: FieldPath, mark: Mark) -> None:
        self.marks[path] = mark

    def _nearest(self, path: FieldPath) -> tuple[FieldPath, Mark] | None:
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return path[:end], mark
        return None

    def locate(self, field_path: str | Iterable[PathPart]) -> Location:
        """(file, line, column) of the value at ``field_path``, else of its nearest located parent."""
        found = self._nearest(_normalise(parse_path(field_path)))
        if found is None:
            return (self.file, None, None)
        return (found[1].file, found[1].line, found[1].column)

    def locate_key(self, field_path: str | Iterable[PathPart]) -> Location:
        """(file, line, column) of the key that introduces ``field_path`` (or of its value)."""
        found = self._nearest(_normalise(parse_path(field_path)))
        if found is None:
            return (self.file, None, None)
        mark = found[1]
        if mark.key_line is not None:
            return (mark.file, mark.key_line, mark.key_column)
        return (mark.file, mark.line, mark.column)

    def subtree(self, prefix: FieldPath) -> dict[FieldPath, Mark]:
        size = len(prefix)
        return {path[size:]: mark for path, mark in self.marks.items() if path[:size] == prefix}

    def with_camel_case_paths(self) -> SourceMap:
        """A copy where a field written in snake_case can also be found by its camelCase path."""
        make = self._make
        if make is None:
            marks = dict(self._marks)
            return SourceMap(self.file, make=lambda: _add_camel_case_paths(marks))
        return SourceMap(self.file, make=lambda: _add_camel_case_paths(make()))

    def copy(self) -> SourceMap:
        return SourceMap(self.file, dict(self.marks))


def _add_camel_case_paths(marks: dict[FieldPath, Mark]) -> dict[FieldPath, Mark]:
    for path, mark in list(marks.items()):
        camel = tuple(to_camel(p) if isinstance(p, str) and "_" in p.strip("_") else p for p in path)
        if camel != path:
            marks.setdefault(camel, mark)
    return marks


def _normalise(path: FieldPath) -> FieldPath:
    return tuple(part if isinstance(part, int) else str(part) for part in path)
