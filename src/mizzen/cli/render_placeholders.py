"""What `mizzen render` shows in place of values it cannot know, as ``helm template`` does for
missing values: each a visible ``<...>`` placeholder, with a warning that says what to supply.

- a connection that is not in the catalog (``$MIZZEN_HOME/connections.yaml`` or ``--connections``):
  a stand-in connection whose url and one environment variable carry the placeholder;
- the inputs an op takes from its ``joins``: the query and the field they will collect.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mizzen.compiler.plan import ConnectionPlan, EnvVar, Plan

MISSING_CONNECTION = (
    "<connection '{name}' is not in the connections catalog: define it in "
    "$MIZZEN_HOME/connections.yaml or pass --connections FILE>"
)
MISSING_CONNECTION_ENV = "MIZZEN_MISSING_CONNECTION_"


def used_connections(plan: Plan) -> set[str]:
    """The connection names the run's pods use (``connections:`` and init steps)."""
    names: set[str] = set()
    for replica in plan.replicas:
        names.update(replica.pod.connections)
        names.update(step.connection for step in replica.pod.init if step.connection)
    return names


def placeholder_connection(name: str) -> ConnectionPlan:
    text = MISSING_CONNECTION.format(name=name)
    env_name = MISSING_CONNECTION_ENV + (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "UNNAMED")
    return ConnectionPlan.model_validate(
        {"name": name, "kind": "missing", "schema": {"url": text}, "env": [EnvVar(name=env_name, value=text)]}
    )


def with_missing_connections(plan: Plan) -> tuple[Plan, list[str]]:
    """``plan`` with a placeholder for each connection it uses that the catalog lacks; the warnings."""
    known = {connection.name for connection in plan.connections}
    missing = sorted(used_connections(plan) - known)
    if not missing:
        return plan, []
    placeholders = [placeholder_connection(name) for name in missing]
    warnings = [
        f"warning: connection '{name}' is not in the connections catalog; rendered with a placeholder "
        f"(define it in $MIZZEN_HOME/connections.yaml or pass --connections FILE)"
        for name in missing
    ]
    return plan.model_copy(update={"connections": [*plan.connections, *placeholders]}), warnings


def _join_placeholder(join: Any, param: Any) -> str:
    return f"<joins: {param.value} of the runs matching '{join.query}'>"


def _substitute(json_text: str, name: str, placeholder: str) -> str:
    """``{{ name }}`` written as ``placeholder`` inside a JSON document."""
    escaped = json.dumps(placeholder)[1:-1]
    return re.sub(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", lambda _: escaped, json_text)


def with_join_placeholders(plan: Plan, operation: Any) -> tuple[Plan, list[str]]:
    """``plan`` with each ``{{ input }}`` an op takes from its joins written as a placeholder, and a
    comment per join input (joins are collected when the op starts)."""
    comments: list[str] = []
    text = plan.model_dump_json(by_alias=True)
    for join in operation.joins or []:
        for name, param in (join.params or {}).items():
            placeholder = _join_placeholder(join, param)
            comments.append(f"joins: {name} = {placeholder} (collected when the op starts)")
            text = _substitute(text, name, placeholder)
    if not comments:
        return plan, []
    return Plan.model_validate_json(text), comments
