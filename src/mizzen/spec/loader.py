"""Load polyaxonfiles (YAML, JSON, Python dicts) into spec models; every failure is a SpecError.

loaded = load_file("train.yaml")
loaded.spec            # ComponentSpec | OperationSpec
loaded.source_map.locate("run.container.image")   # ("train.yaml", 7, 12)
raise CompileError(loaded.problem("run.container.image", "image is required"))
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mizzen.errors import SpecError, SpecProblem
from mizzen.spec.base import describe
from mizzen.spec.diagnostics import problems_from_error
from mizzen.spec.overlay import apply_preset
from mizzen.spec.polyaxonfile import ComponentSpec, OperationSpec
from mizzen.spec.source import parse_text
from mizzen.spec.sourcemap import FieldPath, PathPart, SourceMap, format_path, parse_path

TOP_KINDS = ("component", "operation")
LEGACY_KINDS = ("experiment", "group", "notebook", "tensorboard", "build", "pipeline", "job", "plugin")

StrPath = str | PathLike[str]


@dataclass
class Loaded:
    """A validated polyaxonfile, where it came from, and where each field was written."""

    spec: ComponentSpec | OperationSpec
    path: Path | None
    source_map: SourceMap
    # The spec as plain data, normalised: camelCase keys, long-form params, lists where Kubernetes
    # wants lists (what ``spec.dump()`` gives). ``raw`` is the data as written.
    data: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "component" if isinstance(self.spec, ComponentSpec) else "operation"

    def problem(self, field_path: str | Iterable[PathPart], message: str) -> SpecProblem:
        """A problem located at ``field_path`` (or its nearest written parent), for the compiler."""
        parts = parse_path(field_path)
        file, line, column = self.source_map.locate(parts)
        return SpecProblem(message, file, line, column, format_path(parts) or None)


def load_file(path: StrPath) -> Loaded:
    file = Path(path)
    data, source_map = _read(file)
    return _validate(data, source_map, file)


def load_files(paths: Sequence[StrPath]) -> Loaded:
    """The first file is the main polyaxonfile; each next one is a preset laid over it, in order."""
    if not paths:
        raise SpecError("no polyaxonfile given")
    main = load_file(paths[0])
    if len(paths) == 1:
        return main
    return apply_presets(main, [load_file(path) for path in paths[1:]])


def apply_presets(main: Loaded, presets: Sequence[Loaded]) -> Loaded:
    """Lay loaded presets over a loaded main polyaxonfile, in order, and validate the result."""
    data, source_map = main.data, main.source_map
    for preset in presets:
        data, source_map = apply_preset(data, source_map, preset.data, preset.source_map)
    return _validate(data, source_map, main.path)


def load_text(text: str, source: str = "<text>", fmt: str | None = None) -> Loaded:
    """``fmt`` is "yaml" or "json"; by default guessed from ``source``'s suffix (YAML otherwise)."""
    data, source_map = parse_text(text, source, fmt)
    path = None if source.startswith("<") else Path(source)
    return _validate(data, source_map, path)


def load_dict(data: Any, source: str = "<dict>") -> Loaded:
    """Validate a Python mapping (the SDK's way in); problems name ``source`` and the field path."""
    if isinstance(data, BaseModel):
        data = data.model_dump(by_alias=True, exclude_unset=True, mode="json")
    source_map = SourceMap(source)
    _check_plain(data, (), source_map)
    return _validate(data, source_map, None)


_PLAIN = (str, int, float, bool, type(None), date, datetime)


def _check_plain(value: Any, path: FieldPath, source_map: SourceMap) -> None:
    """SDK dicts may hold any Python object; a polyaxonfile holds only what YAML/JSON can say."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, (*path, key if isinstance(key, int | str) else str(key)), source_map)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain(item, (*path, index), source_map)
    elif not isinstance(value, _PLAIN):
        raise SpecError(
            SpecProblem(
                f"expected plain data (string, number, boolean, list or mapping), "
                f"got a Python {type(value).__name__}",
                source_map.file,
                field_path=format_path(path) or None,
            )
        )


def _read(file: Path) -> tuple[Any, SourceMap]:
    source = str(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise SpecError(SpecProblem("no such file", source)) from None
    except IsADirectoryError:
        raise SpecError(SpecProblem("is a folder, not a polyaxonfile", source)) from None
    except OSError as exc:
        raise SpecError(SpecProblem(f"cannot read the file: {exc.strerror or exc}", source)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(SpecProblem(f"not a UTF-8 text file (byte {exc.start})", source)) from None
    return parse_text(text, source)


def _validate(data: Any, source_map: SourceMap, path: Path | None) -> Loaded:
    file = source_map.file
    if data is None:
        raise SpecError(SpecProblem("the file is empty: expected a polyaxonfile (a mapping)", file, 1, 1))
    if not isinstance(data, dict):
        _, line, column = source_map.locate(())
        raise SpecError(
            SpecProblem(
                f"expected a polyaxonfile (a mapping of keys), got {describe(data)}", file, line, column
            )
        )
    model = _model_for(data, source_map)
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        raise SpecError(problems_from_error(exc, data, source_map, model)) from None
    except RecursionError:
        raise SpecError(SpecProblem("the polyaxonfile is nested too deeply", file)) from None
    return Loaded(
        spec=spec, path=path, source_map=source_map.with_camel_case_paths(), data=spec.dump(), raw=data
    )


def _model_for(data: dict[str, Any], source_map: SourceMap) -> type[ComponentSpec] | type[OperationSpec]:
    kind = data.get("kind")
    if kind is None:  # presets and overlays are written without a kind: they are operations
        return OperationSpec
    if kind == "component":
        return ComponentSpec
    if kind == "operation":
        return OperationSpec
    file, line, column = source_map.locate(("kind",))
    if isinstance(kind, str) and kind in LEGACY_KINDS:
        message = (
            f"kind {kind!r} is Polyaxon v0.x syntax, which Mizzen does not read; "
            "rewrite it as spec v1.1: 'kind: component' with a 'run' section "
            "(https://polyaxon.com/docs/core/specification/)"
        )
        if kind == "job":
            message = (
                "kind 'job' goes under 'run:' in spec v1.1: write 'kind: component' and "
                "'run: {kind: job, container: ...}' (top-level 'kind: job' is Polyaxon v0.x syntax)"
            )
        raise SpecError(SpecProblem(message, file, line, column, "kind"))
    close = difflib.get_close_matches(kind, TOP_KINDS, n=1, cutoff=0.6) if isinstance(kind, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SpecError(
        SpecProblem(
            f"expected 'component' or 'operation', got {describe(kind)}{hint}", file, line, column, "kind"
        )
    )
