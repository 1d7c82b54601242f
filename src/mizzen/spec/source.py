"""Text to plain data plus a source map: YAML (libyaml when present) and JSON.

YAML is composed into nodes first (they carry line/column marks), then constructed into plain
Python data; walking the nodes gives every field its position.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from mizzen.errors import SpecError, SpecProblem
from mizzen.spec.sourcemap import FieldPath, Mark, SourceMap, format_path

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


def parse_text(text: str, source: str, fmt: str | None = None) -> tuple[Any, SourceMap]:
    """Parse a polyaxonfile's text; ``fmt`` is "yaml" or "json" (guessed from ``source`` if None)."""
    if fmt is None:
        fmt = "json" if source.lower().endswith(".json") else "yaml"
    if fmt == "json":
        return _parse_json(text, source)
    return _parse_yaml(text, source)


def _parse_json(text: str, source: str) -> tuple[Any, SourceMap]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(SpecProblem(f"invalid JSON: {exc.msg}", source, exc.lineno, exc.colno)) from None
    except RecursionError:
        raise SpecError(SpecProblem("the JSON is nested too deeply", source)) from None
    try:  # JSON is (almost always) YAML: compose it for the positions.
        _, source_map = _parse_yaml(text, source)
    except SpecError:
        source_map = SourceMap(source)
    return data, source_map


def _parse_yaml(text: str, source: str) -> tuple[Any, SourceMap]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        constructor = _Constructor(loader)
        data = constructor.value(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise SpecError(_yaml_problem(exc, source, text)) from None
    except yaml.YAMLError as exc:
        raise SpecError(SpecProblem(f"invalid YAML: {exc}", source)) from None
    except RecursionError:
        raise SpecError(SpecProblem("the YAML is nested too deeply", source)) from None
    finally:
        loader.dispose()
    if node is None:
        return data, SourceMap(source)
    if constructor.unchecked:  # the walk finds (and locates) duplicate keys
        return data, SourceMap(source, _marks(node, source))
    return data, SourceMap(source, make=lambda: _marks(node, source))


def _marks(node: yaml.Node, source: str) -> dict[FieldPath, Mark]:
    source_map = SourceMap(source)
    try:
        _walk(node, (), source, source_map, set())
    except RecursionError:
        raise SpecError(SpecProblem("the YAML is nested too deeply", source)) from None
    return source_map.marks


class _Constructor:
    """Node -> value, as PyYAML's safe loader makes it, in about a third of its time.

    Strings, mappings and lists (nearly everything) are built here; other values (numbers, dates,
    booleans, tagged nodes) by the loader itself. One memo of built nodes, the loader's own, keeps
    aliases one object, as PyYAML does, even across the two. ``unchecked`` tells that a mapping
    holds a key twice or was left to PyYAML: then the marks must be walked at once (the walk
    reports duplicate keys); otherwise they are walked only if they are ever read.
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.memo = loader.constructed_objects
        self.unchecked = False

    def value(self, node: yaml.Node) -> Any:
        if node in self.memo:
            return self.memo[node]
        if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
            return node.value
        if node.tag == _MAP_TAG and isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # ``<<`` merge keys, as PyYAML does before building
            if all(isinstance(key, yaml.ScalarNode) for key, _ in node.value):  # else PyYAML says why not
                mapping: dict[Any, Any] = {}
                self.memo[node] = mapping  # before the values: one may be an alias of this mapping
                for key_node, value_node in node.value:
                    mapping[self.value(key_node)] = self.value(value_node)
                self.unchecked |= len({key.value for key, _ in node.value}) < len(node.value)
                return mapping
        if node.tag == _SEQ_TAG and isinstance(node, yaml.SequenceNode):
            sequence: list[Any] = []
            self.memo[node] = sequence
            sequence.extend(self.value(item) for item in node.value)
            return sequence
        if not isinstance(node, yaml.ScalarNode):
            self.unchecked = True
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. `!!int abc`: PyYAML's own cast fails
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} as {node.tag}: {exc}", node.start_mark
            ) from None


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str, text: str) -> SpecProblem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        what = f"{what} ({exc.context} at line {exc.context_mark.line + 1})"
    elif exc.context:
        what = f"{what} ({exc.context})"
    if mark is not None and "\t" in _line(text, mark.line):
        what += "; this line has a tab: indent YAML with spaces"
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return SpecProblem(f"invalid YAML: {what}", source, line, column)


def _line(text: str, index: int) -> str:
    lines = text.splitlines()
    return lines[index] if 0 <= index < len(lines) else ""


def _check_duplicate(key_node: yaml.ScalarNode, seen: dict[str, int], path: FieldPath, source: str) -> None:
    """YAML keeps the last of two equal keys silently; that is nearly always a mistake."""
    line = key_node.start_mark.line + 1
    if key_node.value in seen:
        first = seen[key_node.value]
        raise SpecError(
            SpecProblem(
                f"duplicate key {key_node.value!r} (first written at line {first}): "
                "YAML would keep only the last",
                source,
                line,
                key_node.start_mark.column + 1,
                format_path(path) or None,
            )
        )
    seen[key_node.value] = line


def _walk(node: yaml.Node, path: FieldPath, source: str, out: SourceMap, active: set[int]) -> None:
    if id(node) in active:  # a recursive alias: positions stop here
        return
    if isinstance(node, yaml.MappingNode):
        active.add(id(node))
        merged: list[yaml.Node] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            _check_duplicate(key_node, seen, path, source)
            child = (*path, key_node.value)
            mark = value_node.start_mark
            key_mark = key_node.start_mark
            out.add(
                child, Mark(source, mark.line + 1, mark.column + 1, key_mark.line + 1, key_mark.column + 1)
            )
            _walk(value_node, child, source, out, active)
        for value_node in merged:  # ``<<: *defaults``: explicit keys keep their own positions
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for merged_node in sources:
                if isinstance(merged_node, yaml.MappingNode):
                    extra = SourceMap(source)
                    _walk(merged_node, path, source, extra, active)
                    for sub_path, sub_mark in extra.marks.items():
                        out.marks.setdefault(sub_path, sub_mark)
        active.discard(id(node))
    elif isinstance(node, yaml.SequenceNode):
        active.add(id(node))
        for index, item in enumerate(node.value):
            child = (*path, index)
            mark = item.start_mark
            out.add(child, Mark(source, mark.line + 1, mark.column + 1))
            _walk(item, child, source, out, active)
        active.discard(id(node))
    if not path:
        mark = node.start_mark
        out.marks.setdefault((), Mark(source, mark.line + 1, mark.column + 1))
