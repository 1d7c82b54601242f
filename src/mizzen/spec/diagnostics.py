"""Pydantic's validation errors -> located, readable problems.

A pydantic ``loc`` also names union branches (``run.job.container``, ``paths.list[str]``); they are
dropped by walking the loc along the data the user wrote. Several errors at one place (one per
union branch) become one "expected X or Y" message; an error that a deeper one explains is
dropped, so the most specific problems come first.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mizzen.errors import SpecProblem
from mizzen.spec.base import describe
from mizzen.spec.sourcemap import FieldPath, SourceMap, format_path

MAX_PROBLEMS = 5

_EXPECTED_BY_TYPE = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time (YYYY-MM-DDTHH:MM:SS)",
    "datetime_parsing": "a date and time (YYYY-MM-DDTHH:MM:SS)",
    "datetime_from_date_parsing": "a date and time (YYYY-MM-DDTHH:MM:SS)",
    "datetime_object_invalid": "a date and time (YYYY-MM-DDTHH:MM:SS)",
    "none_required": "null",
}
_QUOTED = re.compile(r"'([^']*)'")

# Keys of Polyaxon v0.x files: an unknown key among them says which syntax the file uses.
V0_KEYS = frozenset({"declarations", "logging", "framework", "hptuning", "settings", "secretResources"})


def problems_from_error(
    exc: ValidationError, data: Any, source_map: SourceMap, root: type[BaseModel]
) -> list[SpecProblem]:
    collected: dict[FieldPath, list[tuple[str, ErrorDetails]]] = {}
    order: list[FieldPath] = []
    for error in exc.errors():
        path, message_kind = _clean(error, data)
        if path not in collected:
            collected[path] = []
            order.append(path)
        collected[path].append((message_kind, error))
    # An error explained by a deeper one (another union branch went further) is dropped.
    kept = [p for p in order if not any(len(q) > len(p) and q[: len(p)] == p for q in order)]
    kept.sort(key=lambda p: -len(p))
    problems = [_problem(path, collected[path], data, source_map, root) for path in kept]
    if len(problems) > MAX_PROBLEMS:
        rest = len(problems) - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS]
        problems.append(SpecProblem(f"... and {rest} more problem{'s' if rest > 1 else ''}"))
    return problems


def _clean(error: ErrorDetails, data: Any) -> tuple[FieldPath, str]:
    """The loc as a path of keys the user wrote, and what kind of message it needs."""
    loc = error["loc"]
    kind = error["type"]
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        found, child = _step(node, part)
        if found:
            path.append(part)
            node = child
        elif last and kind == "missing":
            path.append(part)
        # anything else is a union branch label: not part of what the user wrote
    ctx = error.get("ctx") or {}
    extra = ctx.get("at") or ()
    if "index" in ctx and isinstance(node, list):
        extra = [ctx["index"]]
    path.extend(extra)
    return tuple(path), kind


def _step(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _problem(
    path: FieldPath,
    errors: list[tuple[str, ErrorDetails]],
    data: Any,
    source_map: SourceMap,
    root: type[BaseModel],
) -> SpecProblem:
    kind, error = errors[0]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        parent = path[:-1]
        file, line, column = source_map.locate_key(parent)
        return SpecProblem(
            f"missing required key '{path[-1]}'", file, line, column, format_path(parent) or None
        )
    if kind == "extra_forbidden":
        parent, key = path[:-1], path[-1]
        file, line, column = source_map.locate_key(path)
        message = _unknown_key_message(str(key), parent, data, root)
        return SpecProblem(message, file, line, column, format_path(parent) or None)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = _QUOTED.findall(str(ctx.get("expected_tags", ""))) or union_tags(root, path, data)
        field = str(ctx.get("discriminator", "kind")).strip("'")
        if kind == "union_tag_not_found":
            file, line, column = source_map.locate_key(path)
            message = f"missing required key '{field}' (one of: {', '.join(tags)})"
            return SpecProblem(message, file, line, column, format_path(path) or None)
        tag = str(ctx.get("tag", ""))
        file, line, column = source_map.locate((*path, field))
        message = f"unknown {field} {tag!r}{_did_you_mean(tag, tags)}; expected one of: {', '.join(tags)}"
        return SpecProblem(message, file, line, column, format_path((*path, field)))
    file, line, column = source_map.locate(path)
    return SpecProblem(_value_message(errors), file, line, column, format_path(path) or None)


def _value_message(errors: list[tuple[str, ErrorDetails]]) -> str:
    expected: list[str] = []
    others: list[str] = []
    found: Any = errors[0][1].get("input")
    for kind, error in errors:
        ctx = error.get("ctx") or {}
        if kind in _EXPECTED_BY_TYPE:
            expected.append(_EXPECTED_BY_TYPE[kind])
        elif kind == "literal_error":
            options = _QUOTED.findall(str(ctx.get("expected", "")))
            text = "one of " + ", ".join(repr(o) for o in options)
            others.append(
                f"expected {text}, got {describe(error.get('input'))}"
                + _did_you_mean(error.get("input"), options)
            )
        elif kind.startswith("mizzen_"):
            others.append(error["msg"])
        elif kind in ("value_error", "assertion_error"):
            others.append(error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, "))
        else:
            msg = error["msg"]
            others.append(f"{msg[:1].lower()}{msg[1:]}, got {describe(error.get('input'))}")
    if others:
        return others[0]
    unique = list(dict.fromkeys(expected))
    return f"expected {' or '.join(unique)}, got {describe(found)}"


def _did_you_mean(found: Any, options: list[str]) -> str:
    if not isinstance(found, str):
        return ""
    same_letters = [option for option in options if option.lower() == found.lower()]
    close = same_letters or difflib.get_close_matches(found, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_key_message(key: str, parent: FieldPath, data: Any, root: type[BaseModel]) -> str:
    message = f"unknown key {key!r}"
    if not parent:
        from mizzen.spec.polyaxonfile import OPERATION_ONLY_KEYS, ComponentSpec

        if root is ComponentSpec and key in OPERATION_ONLY_KEYS:
            return f"{message}: '{key}' belongs to an operation (kind: operation), not to a component"
        if key in V0_KEYS:
            return f"{message}: this is Polyaxon v0.x syntax; Mizzen reads polyaxonfile spec v1.1"
    known = known_keys(root, parent, data)
    if known is not None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            return f"{message} (did you mean {close[0]!r}?)"
    return message


# -- which model sits at a path (for "did you mean") -----------------------------------------------


def known_keys(root: type[BaseModel], path: FieldPath, data: Any) -> list[str] | None:
    model = _model_at(root, path, data)
    if model is None:
        return None
    return [field.alias or name for name, field in model.model_fields.items()]


def union_tags(root: type[BaseModel], path: FieldPath, data: Any) -> list[str]:
    """The ``kind`` values a discriminated union at ``path`` accepts."""
    tp = _type_at(root, path, data)
    tags: list[str] = []
    for member in _members(tp):
        if isinstance(member, type) and issubclass(member, BaseModel) and "kind" in member.model_fields:
            tags.extend(
                str(t) for t in typing.get_args(member.model_fields["kind"].annotation) if t is not None
            )
    return tags


def _members(tp: Any) -> list[Any]:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (Union, types.UnionType):
        out: list[Any] = []
        for member in typing.get_args(tp):
            out.extend(_members(member))
        return out
    return [tp]


def _model_at(root: Any, path: FieldPath, data: Any) -> type[BaseModel] | None:
    tp = _pick(_type_at(root, path, data), _node_at(data, path))
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _node_at(data: Any, path: FieldPath) -> Any:
    node = data
    for part in path:
        node = _step(node, part)[1]
    return node


def _type_at(root: Any, path: FieldPath, data: Any) -> Any:
    """The annotation of the field at ``path`` (unions not yet resolved), or None."""
    tp: Any = root
    node = data
    for part in path:
        tp = _pick(tp, node)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = _field(tp, part)
            if field is None:
                return None
            tp = field
        else:
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if origin in (list, tuple) and isinstance(part, int) and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return None
        node = _step(node, part)[1]
    return tp


def _field(model: type[BaseModel], key: str | int) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _pick(tp: Any, node: Any) -> Any:
    """Unwrap Annotated/Optional/Union, choosing the member that fits ``node``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if models and isinstance(node, dict):
                kind = node.get("kind")
                for model in models:
                    kind_field = model.model_fields.get("kind")
                    if kind_field is not None and kind in typing.get_args(kind_field.annotation):
                        return model
                tp = models[0]
                continue
            for member in members:
                member_origin = typing.get_origin(member)
                if (isinstance(node, list) and member_origin in (list, tuple)) or (
                    isinstance(node, dict) and member_origin is dict
                ):
                    tp = member
                    break
            else:
                tp = members[0] if members else tp
            continue
        return tp
