"""The image of a run that has a ``build`` section: the image its build pushes.

As in the reference, the build's ``destination`` is its ``params.destination`` or, without one,
``PROJECT:UUID``, pushed to the registry of ``build.connection``; a container written without an
image runs that one. The registry is the connection's ``schema.url`` in the catalog; a connection
the catalog lacks gives a visible placeholder, and a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.compiler.plan import ConnectionPlan, ContainerPlan, Plan, RuntimeContext
from mizzen.compiler.templating import to_text


def destination(build: Mapping[str, Any], context: RuntimeContext) -> tuple[str, str | None]:
    """The build's destination (``name:tag``) and the connection of its registry."""
    param = (build.get("params") or {}).get("destination")
    param = param if isinstance(param, Mapping) else {"value": param}
    value = to_text(param.get("value")) or f"{context.project_name}:{context.uuid}"
    return value, build.get("connection") or param.get("connection")


def built_image(
    build: Mapping[str, Any], context: RuntimeContext, connections: Mapping[str, ConnectionPlan]
) -> tuple[str, list[str]]:
    """The image the build pushes, and warnings about what could not be known."""
    name, connection = destination(build, context)
    if connection is None:
        return name, []
    registry = connections[connection].schema_.get("url") if connection in connections else None
    if registry:
        return f"{str(registry).rstrip('/')}/{name}", []
    placeholder = f"<registry of connection '{connection}'>"
    warning = (
        f"connection '{connection}' is not in the connections catalog "
        "(or has no schema.url): the built image is shown as "
        f"{placeholder}/{name}"
    )
    return f"{placeholder}/{name}", [warning]


def with_built_image(
    plan: Plan,
    build: Mapping[str, Any] | None,
    context: RuntimeContext,
    connections: Mapping[str, ConnectionPlan],
) -> tuple[Plan, list[str]]:
    """``plan`` with the built image on each main container written without one."""
    if not build or all(r.pod.main is None or r.pod.main.image for r in plan.replicas):
        return plan, []
    image, warnings = built_image(build, context, connections)

    def with_image(main: ContainerPlan | None) -> ContainerPlan | None:
        return main if main is None or main.image else main.model_copy(update={"image": image})

    replicas = [
        r.model_copy(update={"pod": r.pod.model_copy(update={"main": with_image(r.pod.main)})})
        for r in plan.replicas
    ]
    return plan.model_copy(update={"replicas": replicas}), warnings
