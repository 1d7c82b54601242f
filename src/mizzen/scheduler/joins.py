"""Joins (``joins:`` on an operation): values collected from the runs a query selects.

Resolved when the run is claimed (``StoreRunSource.claim`` for local runs, the agents' claim route
for the agent's): each join's ``query`` (the run-list language, Polyaxon's; ``sort``, ``limit``,
``offset``; templates rendered with the op's params and ``globals``) selects earlier runs of the
run's project (all projects when the query names ``project``), never the run itself; each of its
params collects one value per selected run, in order, into a list:

    outputs.NAME / inputs.NAME / params.NAME   a run's value (outputs.NAME falls back to the last
                                               value of the metric NAME); outputs, inputs: all
    globals.uuid / name / status / project_name / kind / created_at / finished_at / duration
    artifacts.base / artifacts.outputs          the run's folder, its outputs folder (relative to
                                               the artifacts store, as ``{{ globals.artifacts_path }}/...``)
    artifacts.NAME                              the path of the artifact NAME it recorded (lineage),
                                               else its input/output NAME; ``artifacts``: base+outputs

A run that lacks the value is left out of that list; a query that selects nothing gives ``[]``.
The values go into the run's ``meta["joins"]`` (with what each join selected) and its inputs, and
a condition on the run says what was selected; the compiler then sees ordinary values.
Polyaxon's ``hub.name:X`` / ``component.name:X`` select runs of the component named X (filtered
here: the store has no such column); ``project.name:X`` is ``project:X``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.compiler.contexts import globals_of
from mizzen.compiler.templating import Deferred, TemplateError, has_template, render
from mizzen.errors import CompileError, InvalidInput
from mizzen.schemas.pipelines import DAG_OP_KEY, UPSTREAM_KEY
from mizzen.spec import JoinSpec, load_dict
from mizzen.store import Database
from mizzen.store.gateway import lineage, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.query import Condition, parse_query, parse_sort
from mizzen.store.records import RunDetail, RunRecord

JOINS_KEY = "joins"  # in a run's meta: {"values": {param: [...]}, "selected": [...]}
JOINED_REASON = "JoinsResolved"
COMPONENT_FIELDS = frozenset({"hub.name", "component.name", "hub"})
MAX_SCANNED = 10_000  # a component filter reads at most this many matches
_REF_PREFIXES = ("outputs", "inputs", "params", "globals", "artifacts")


@dataclass(frozen=True)
class Joined:
    values: dict[str, list[Any]]
    selected: list[dict[str, Any]]  # per join: its query and the uuids it selected
    inputs: dict[str, list[Any]]  # the values of params that are not context-only

    def summary(self) -> str:
        parts = [
            f"{j['query']!r} selected {len(j['runs'])} run{'s' if len(j['runs']) != 1 else ''}"
            + (
                f" ({', '.join(u[:8] for u in j['runs'][:10])}{', ...' if len(j['runs']) > 10 else ''})"
                if j["runs"]
                else ""
            )
            for j in self.selected
        ]
        return "joins: " + "; ".join(parts)


def resolve_claimed(database: Database, run: RunRecord, compiler: Compiler) -> RunRecord:
    """Resolve ``run``'s joins (if it has any), record them, and return the run as it is now.
    ``CompileError`` naming the join and the fix when a join cannot be resolved."""
    joined = resolve(database, run, compiler)
    if joined is None:
        return run
    runs_gateway.update_run(
        database,
        run.uuid,
        inputs=joined.inputs or None,
        meta={JOINS_KEY: {"values": joined.values, "selected": joined.selected}},
    )
    return statuses.set_status(database, run.uuid, run.status, JOINED_REASON, joined.summary()).run


def resolve(database: Database, run: RunRecord, compiler: Compiler) -> Joined | None:
    """What ``run``'s joins select now; None when it has none."""
    if not run.spec or not _mentions_joins(run.spec):
        return None
    joins, context = _joins_of(run, compiler)
    if not joins:
        return None
    values: dict[str, list[Any]] = {}
    inputs: dict[str, list[Any]] = {}
    selected: list[dict[str, Any]] = []
    for index, join in enumerate(joins):
        where = f"joins[{index}]"
        runs = _select(database, run, join, context, where)
        selected.append({"query": join.query, "runs": [r.run.uuid for r in runs]})
        for name, param in (join.params or {}).items():
            values[name] = [v for r in runs if (v := _value_of(database, r, param.value)) is not _MISSING]
            if not param.context_only:
                inputs[name] = values[name]
    return Joined(values, selected, inputs)


def _joins_of(run: RunRecord, compiler: Compiler) -> tuple[list[JoinSpec], dict[str, Any]]:
    loaded = load_dict(dict(run.spec or {}), source=f"run {run.uuid[:12]}")
    op_name = run.meta.get(DAG_OP_KEY)
    compiled = compiler.compile_loaded(loaded, {} if op_name else run.params, require_inputs=False)
    if op_name:
        if compiled.dag is None or op_name not in compiled.dag.ops:
            return [], {}
        op, context = compiler.op_context(compiled, op_name, run.meta.get(UPSTREAM_KEY) or {})
        return list(op.resolved.operation.joins or []), context
    context = {n: p.value for n, p in compiled.params.items() if not p.is_deferred}
    context["globals"] = globals_of(compiler.context)
    return list(compiled.operation.joins or []), context


def _select(
    database: Database, run: RunRecord, join: JoinSpec, context: dict[str, Any], where: str
) -> list[RunDetail]:
    query = _rendered(join.query, context, where, "query")
    sort = _rendered(join.sort, context, where, "sort") if join.sort else None
    limit = _number(join.limit, context, where, "limit")
    offset = _number(join.offset, context, where, "offset") or 0
    terms, components = _translate(query)
    try:
        conditions = parse_query(", ".join(terms))
        keys = parse_sort(sort)
    except InvalidInput as error:
        raise CompileError(f"{where}: {error} (write the query as `mizzen ops ls -q` takes it)") from None
    scoped = any(c.field == "project" for c in conditions)
    conditions.append(Condition("uuid", "in", (run.uuid,), negate=True))
    if not components:
        page = runs_gateway.search_page(
            database,
            project=None if scoped else run.project,
            conditions=conditions,
            sort=keys,
            limit=limit if limit is not None else MAX_SCANNED,
            offset=offset,
        )
        return [runs_gateway.get_run_detail(database, item["uuid"]) for item in page.items]
    page = runs_gateway.search_page(
        database, project=None if scoped else run.project, conditions=conditions, sort=keys, limit=MAX_SCANNED
    )
    details = [runs_gateway.get_run_detail(database, item["uuid"]) for item in page.items]
    matching = [d for d in details if component_name(d.run) in components]
    return matching[offset : offset + limit if limit is not None else None]


def _translate(query: str) -> tuple[list[str], set[str]]:
    """Polyaxon's fields the store has no column for: ``project.name`` → ``project``; the
    component-name terms are returned apart (filtered here)."""
    terms: list[str] = []
    components: set[str] = set()
    for term in (t.strip() for t in query.split(",")):
        field, sep, value = term.partition(":")
        field = field.strip()
        if sep and field in COMPONENT_FIELDS:
            components |= {v.strip() for v in value.split("|") if v.strip()}
        elif sep and field == "project.name":
            terms.append(f"project:{value.strip()}")
        elif term:
            terms.append(term)
    return terms, components


def component_name(run: RunRecord) -> str | None:
    """The name of the component a run ran: a DAG op's (``dagRef``, hub name, inline name), else
    the run's own (its hubRef's name, or its component's name)."""
    spec = run.spec or {}
    op_name = run.meta.get(DAG_OP_KEY)
    if op_name:
        run_section = spec.get("run") or (spec.get("component") or {}).get("run") or {}
        for op in run_section.get("operations") or []:
            if op.get("name") == op_name:
                return _named(op)
        return None
    return _named(spec) or spec.get("name")


def _named(op: dict[str, Any]) -> str | None:
    if op.get("dagRef"):
        return str(op["dagRef"])
    if op.get("hubRef"):
        return str(op["hubRef"]).split(":")[0].split("/")[-1]
    return (op.get("component") or {}).get("name")


_MISSING = object()


def _value_of(database: Database, detail: RunDetail, ref: Any) -> Any:
    """One joined run's value for a join param's ``value`` (a reference such as ``outputs.loss``;
    anything else is taken as written)."""
    if not isinstance(ref, str) or ref.split(".", 1)[0] not in _REF_PREFIXES:
        return ref
    run = detail.run
    section, _, key = ref.partition(".")
    if section in ("outputs", "inputs", "params"):
        plan = run.plan or {}  # what it was compiled with: a DAG op's or a trial's values live there
        found: dict[str, Any] = dict(plan.get(section) or {}) | dict(getattr(run, section))
        if section == "outputs":
            found = {m.name: m.last for m in detail.metrics} | found
        if section == "inputs":
            found = dict(plan.get("params") or {}) | dict(run.params) | found
        if not key:
            return found
        return found.get(key, _MISSING)
    if section == "globals":
        known = {
            "uuid": run.uuid,
            "name": run.name,
            "status": run.status.value,
            "project_name": run.project,
            "kind": run.kind,
            "created_at": run.created_at.isoformat() if run.created_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration": run.duration,
        }
        return known.get(key, _MISSING)
    paths = {"base": run.uuid, "outputs": f"{run.uuid}/outputs"}
    if not key:
        return paths
    if key in paths:
        return paths[key]
    for artifact in lineage.list_lineage(database, run.uuid):
        if artifact.name == key and artifact.path:
            return artifact.path
    values = dict((run.plan or {}).get("params") or {}) | run.outputs | run.params | run.inputs
    return values.get(key, _MISSING)


def _rendered(text: str, context: dict[str, Any], where: str, field: str) -> str:
    if not has_template(text):
        return text
    try:
        return render(text, context)
    except (TemplateError, Deferred) as error:
        raise CompileError(f"{where}.{field} {text!r}: {error}") from None


def _number(value: Any, context: dict[str, Any], where: str, field: str) -> int | None:
    if value is None:
        return None
    text = _rendered(value, context, where, field) if isinstance(value, str) else value
    try:
        number = int(text)
    except (TypeError, ValueError):
        raise CompileError(f"{where}.{field}: expected a whole number, got {text!r}") from None
    if number < 0:
        raise CompileError(f"{where}.{field}: expected 0 or more, got {number}")
    return number


def _mentions_joins(value: Any) -> bool:
    if isinstance(value, dict):
        return "joins" in value or any(_mentions_joins(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_joins(v) for v in value)
    return False
