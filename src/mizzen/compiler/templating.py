"""Sandboxed templating of polyaxonfile strings (``{{ lr }}``, ``{{ globals.run_outputs_path }}``).

Two engines with one meaning:
- a fast path for the common case, a string whose placeholders are all plain lookups
  (``{{ name }}``, ``{{ a.b }}``, ``{{ a['b'] }}``): resolved directly, no Jinja involved;
- Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined`` for everything else (filters,
  expressions, statements), with one compiled template cached per distinct string.

Values that exist only later (an upstream op's outputs, a connection not in the catalog) are context
objects that raise ``Deferred``; the caller keeps such a string as written and records the reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment


class TemplateError(ValueError):
    """A template that cannot be rendered; the message is for the user."""


class Deferred(Exception):
    """Raised by a context value that is not known yet; ``ref`` names what it waits for."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class DeferredValue:
    """A placeholder that raises ``Deferred`` whenever a template touches it."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise Deferred(self.ref)

    def _defer(self, *_: Any) -> Any:
        raise Deferred(self.ref)

    __getitem__ = __str__ = __iter__ = __len__ = __bool__ = __int__ = __float__ = _defer
    __lt__ = __le__ = __gt__ = __ge__ = __add__ = __radd__ = __sub__ = __mul__ = __truediv__ = _defer

    def __eq__(self, other: object) -> bool:
        raise Deferred(self.ref)

    def __hash__(self) -> int:
        return hash(self.ref)


def has_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def to_text(value: Any) -> str:
    """How a value prints inside a string: None prints nothing, dicts/lists print as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple) and not hasattr(value, "__html__"):
        return json.dumps(value, default=str)
    return str(value)


# -- fast path ------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_STEP = re.compile(r"\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))\s*\])")
_HEAD = re.compile(r"\s*([A-Za-z_]\w*)")
_MISSING = object()


@lru_cache(maxsize=4096)
def _parse_path(expression: str) -> tuple[str, tuple[tuple[str, str | int], ...]] | None:
    """``a.b['c'][0]`` → ("a", (("attr", "b"), ("item", "c"), ("item", 0))); None if not that simple."""
    head = _HEAD.match(expression)
    if not head or head.group(1) in ("true", "false", "none", "True", "False", "None"):
        return None
    steps: list[tuple[str, str | int]] = []
    position = head.end()
    while position < len(expression):
        if not expression[position:].strip():
            break
        step = _STEP.match(expression, position)
        if not step:
            return None
        attr, single, double, index = step.groups()
        if attr is not None:
            steps.append(("attr", attr))
        elif index is not None:
            steps.append(("item", int(index)))
        else:
            steps.append(("item", single if single is not None else double))
        position = step.end()
    return head.group(1), tuple(steps)


def _lookup_step(value: Any, kind: str, key: str | int, shown: str) -> Any:
    if isinstance(key, str) and key.startswith("_"):
        raise TemplateError(f"access to {key!r} is not allowed in templates")
    first, second = ("attr", "item") if kind == "attr" else ("item", "attr")
    for how in (first, second):
        if how == "attr":
            if isinstance(key, str) and not isinstance(value, Mapping):
                result = getattr(value, key, _MISSING)
                if result is not _MISSING and not callable(result):
                    return result
        else:
            try:
                return value[key]
            except (TypeError, LookupError):
                pass
    raise TemplateError(f"{shown!r} has no attribute {key!r}")


def _resolve_path(path: tuple[str, tuple[tuple[str, str | int], ...]], context: Mapping[str, Any]) -> Any:
    name, steps = path
    if name not in context:
        raise TemplateError(f"{name!r} is undefined")
    value = context[name]
    shown = name
    for kind, key in steps:
        value = _lookup_step(value, kind, key, shown)
        shown = f"{shown}.{key}" if kind == "attr" else f"{shown}[{key!r}]"
    return value


@lru_cache(maxsize=4096)
def _split_simple(text: str) -> tuple[tuple[str, ...], tuple[Any, ...]] | None:
    """Literal chunks and parsed paths of a string made only of simple placeholders, else None."""
    if "{%" in text or "{#" in text:
        return None
    chunks: list[str] = []
    paths: list[Any] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        path = _parse_path(match.group(1).strip())
        if path is None:
            return None
        chunks.append(text[position : match.start()])
        paths.append(path)
        position = match.end()
    if "{{" in text[position:]:
        return None
    chunks.append(text[position:])
    return tuple(chunks), tuple(paths)


# -- Jinja path -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        undefined=StrictUndefined, finalize=to_text, autoescape=False, keep_trailing_newline=True
    )


@lru_cache(maxsize=4096)
def _template(text: str) -> Template:
    return _environment().from_string(text)


@lru_cache(maxsize=1024)
def _expression(source: str) -> Callable[..., Any]:
    return _environment().compile_expression(source, undefined_to_none=False)


def _jinja(call: Callable[[], Any]) -> Any:
    from jinja2 import TemplateError as JinjaError
    from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

    try:
        return call()
    except (Deferred, TemplateError):
        raise
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from None
    except UndefinedError as exc:
        raise TemplateError(_undefined_message(str(exc))) from None
    except SecurityError as exc:
        raise TemplateError(f"not allowed in templates: {exc}") from None
    except JinjaError as exc:
        raise TemplateError(f"cannot render template: {exc}") from None
    except Exception as exc:  # expressions evaluate user code paths: 1/0, "a" + 1, ...
        raise TemplateError(f"cannot render template: {type(exc).__name__}: {exc}") from None


def _undefined_message(message: str) -> str:
    found = re.match(r"'([^']+)' is undefined", message)
    return f"{found.group(1)!r} is undefined" if found else message


# -- public API -----------------------------------------------------------------------------------


def render(text: str, context: Mapping[str, Any]) -> str:
    """Render one string. Raises TemplateError (user-facing) or Deferred (value not known yet)."""
    if not has_template(text):
        return text
    simple = _split_simple(text)
    if simple is not None:
        chunks, paths = simple
        parts = [chunks[0]]
        for path, chunk in zip(paths, chunks[1:], strict=True):
            parts.append(to_text(_resolve_path(path, context)))
            parts.append(chunk)
        return "".join(parts)
    return str(_jinja(lambda: _template(text).render(context)))


def evaluate(text: str, context: Mapping[str, Any]) -> Any:
    """The native value of a string that is exactly one ``{{ expression }}``; else ``render``."""
    stripped = text.strip()
    match = _PLACEHOLDER.fullmatch(stripped)
    if not match or "{{" in match.group(1):
        return render(text, context)
    expression = match.group(1).strip()
    path = _parse_path(expression)
    if path is not None:
        return _resolve_path(path, context)
    return _jinja(lambda: _expression(expression)(**context))


_OPS_REF = re.compile(r"\bops\s*(?:\.\s*([A-Za-z0-9_]+)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def ops_references(text: str) -> set[str]:
    """Names of the DAG ops a template string reads (``{{ ops.train.outputs.loss }}``)."""
    found: set[str] = set()
    for placeholder in re.findall(r"\{[{%](.*?)[}%]\}", text, re.DOTALL):
        for attr, item in _OPS_REF.findall(placeholder):
            found.add(attr or item)
    return found


def render_structure(
    value: Any,
    context: Mapping[str, Any],
    on_deferred: Callable[[str, str], None] | None = None,
    path: str = "",
    on_error: Callable[[str, TemplateError], None] | None = None,
) -> Any:
    """Render every string inside dicts/lists (keys are kept). Unchanged parts are returned as is.

    A string that touches a deferred value is kept as written and reported to ``on_deferred(path,
    ref)``; without that callback ``Deferred`` propagates. TemplateErrors go to ``on_error(path,
    error)`` when given, else propagate.
    """
    if isinstance(value, str):
        if not has_template(value):
            return value
        try:
            return render(value, context)
        except Deferred as deferred:
            if on_deferred is None:
                raise
            on_deferred(path, deferred.ref)
            return value
        except TemplateError as error:
            if on_error is None:
                raise
            on_error(path, error)
            return value
    if isinstance(value, Mapping):
        rendered = {
            key: render_structure(item, context, on_deferred, f"{path}.{key}" if path else str(key), on_error)
            for key, item in value.items()
        }
        return value if all(rendered[k] is value[k] for k in value) else rendered
    if isinstance(value, list):
        items = [
            render_structure(item, context, on_deferred, f"{path}[{index}]", on_error)
            for index, item in enumerate(value)
        ]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value
