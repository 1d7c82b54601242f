"""Find the component an operation runs: inline, or through ``hubRef``/``pathRef``/``urlRef``.

A referenced file may itself be an operation over another reference; references are followed
(relative ``pathRef``s from the file that holds them) until a component is reached, and a chain that
comes back to a file it already read is rejected. Loaded files are cached per process (keyed by
path, size and modification time), so a component that many files reference is parsed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mizzen.compiler.compose import compose
from mizzen.compiler.locate import Where
from mizzen.compiler.refs import RefError, RefResolver, Source
from mizzen.errors import CompileError, SpecError
from mizzen.spec import ComponentSpec, Loaded, OperationSpec, load_file, load_text

_CACHE_SIZE = 256
_FILE_CACHE: dict[tuple[str, int, int], Loaded] = {}
_TEXT_CACHE: dict[str, tuple[str, Loaded]] = {}  # fetched URL -> (text, loaded)


def load_source(source: Source) -> Loaded:
    if source.path is not None:
        stat = source.path.stat()
        key = (str(source.path), stat.st_size, stat.st_mtime_ns)
        cached = _FILE_CACHE.get(key)
        if cached is None:
            if len(_FILE_CACHE) >= _CACHE_SIZE:  # a long-lived scheduler compiles many files
                _FILE_CACHE.clear()
            cached = _FILE_CACHE[key] = load_file(source.path)
        return cached
    entry = _TEXT_CACHE.get(source.label)
    if entry is None:
        if len(_TEXT_CACHE) >= _CACHE_SIZE:
            _TEXT_CACHE.clear()
        entry = _TEXT_CACHE[source.label] = (source.text or "", load_text(source.text or "", source.label))
    return entry[1]


@dataclass
class Resolved:
    """An operation with its component found: ``data`` is the effective polyaxonfile (camelCase)."""

    operation: OperationSpec
    data: dict[str, Any]
    where: Where  # the operation
    component_where: Where  # where the run and inputs were written
    component_path: Path | None  # the file of the component (pathRefs inside it are relative to it)
    chain: tuple[str, ...] = field(default_factory=tuple)
    # The component a hubRef/pathRef/urlRef led to, as written (what a stored spec inlines).
    referenced: dict[str, Any] | None = None


def _as_written(where: Where) -> dict[str, Any] | None:
    """A referenced component file as written (None when the reference led to an operation file,
    whose component is composed with that operation's own params: it stays a reference)."""
    loaded = where.loaded
    if not where.prefix and isinstance(loaded, Loaded) and isinstance(loaded.spec, ComponentSpec):
        return {k: v for k, v in loaded.raw.items() if k not in ("version", "kind")}
    return None


def _ref_of(operation: OperationSpec) -> tuple[str, str] | None:
    for key, attr in (
        ("hubRef", "hub_ref"),
        ("urlRef", "url_ref"),
        ("pathRef", "path_ref"),
        ("dagRef", "dag_ref"),
    ):
        value = getattr(operation, attr)
        if value:
            return key, value
    return None


class ComponentResolver:
    def __init__(self, refs: RefResolver) -> None:
        self.refs = refs
        self._url_failures: dict[str, RefError] = {}  # one unreachable URL is tried once per compile

    def source_for(self, kind: str, ref: str, referrer: Path | None) -> Source:
        if kind == "hubRef":
            return self.refs.hub_ref(ref)
        if kind == "urlRef":
            if ref in _TEXT_CACHE:
                return Source(label=ref, text=_TEXT_CACHE[ref][0])
            if ref in self._url_failures:
                raise self._url_failures[ref]
            try:
                return self.refs.url_ref(ref)
            except RefError as exc:
                self._url_failures[ref] = exc
                raise
        return self.refs.path_ref(ref, referrer)

    def resolve(
        self,
        operation: OperationSpec,
        where: Where,
        path: Path | None,
        chain: tuple[str, ...] = (),
        dag_components: dict[str, tuple[ComponentSpec, Where]] | None = None,
    ) -> Resolved:
        """Resolve ``operation`` (written at ``where`` in the file ``path``)."""
        component: ComponentSpec | OperationSpec | None = operation.component
        component_where, component_path = where.at("component"), path
        ref = None if component is not None else _ref_of(operation)
        referenced = None
        if ref is not None:
            kind, value = ref
            if kind == "dagRef":
                if dag_components is None:
                    raise where.error(
                        "dagRef can only name a component of the DAG that holds this op", "dagRef"
                    )
                if value not in dag_components:
                    known = ", ".join(sorted(dag_components)) or "none"
                    raise where.error(
                        f"no component named {value!r} in this DAG's components (defined: {known})", "dagRef"
                    )
                component, component_where = dag_components[value]
            else:
                component, component_where, component_path, chain = self._follow(
                    kind, value, where, path, chain
                )
                referenced = _as_written(component_where)
        data = compose(operation, component, where)
        return Resolved(operation, data, where, component_where, component_path, chain, referenced)

    def _follow(
        self, kind: str, value: str, where: Where, path: Path | None, chain: tuple[str, ...]
    ) -> tuple[ComponentSpec | OperationSpec, Where, Path | None, tuple[str, ...]]:
        try:
            source = self.source_for(kind, value, path)
        except RefError as exc:
            raise where.error(str(exc), kind) from None
        if source.label in chain or (path is not None and source.label == str(path) and not chain):
            shown = " -> ".join([*chain, source.label])
            raise where.error(f"{kind} {value!r} makes a reference cycle: {shown}", kind)
        try:
            loaded = load_source(source)
        except SpecError as exc:
            raise CompileError(
                [where.problem(f"{kind} {value!r}: the referenced file is not valid", kind), *exc.problems]
            ) from None
        chain = (*chain, source.label)
        ref_where = Where(loaded, "", source.label)
        spec = loaded.spec
        if isinstance(spec, OperationSpec) and (spec.component is not None or _ref_of(spec) is not None):
            inner = self.resolve(spec, ref_where, loaded.path, chain)
            return (
                OperationSpec.model_validate(inner.data),
                inner.component_where,
                inner.component_path,
                chain,
            )
        return spec, ref_where, loaded.path, chain
