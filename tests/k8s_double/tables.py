"""meta.k8s.io/v1 Table responses, which kubectl asks for when it prints human-readable output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from .resources import ResourceType
from .store import Obj


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _age(obj: Obj) -> str:
    stamp = obj["metadata"].get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    seconds = int((dt.datetime.now(dt.UTC) - created).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _pod_cells(pod: Obj) -> list[Any]:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    shown = status.get("reason") or status.get("phase", "Pending")
    for entry in containers:
        waiting = (entry.get("state") or {}).get("waiting")
        terminated = (entry.get("state") or {}).get("terminated")
        if waiting and waiting.get("reason"):
            shown = waiting["reason"]
        elif terminated and terminated.get("reason") and status.get("phase") != "Running":
            shown = terminated["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        shown = "Terminating"
    restarts = sum(int(c.get("restartCount", 0)) for c in containers)
    return [f"{ready}/{len(pod['spec'].get('containers', []))}", shown, restarts]


def _job_cells(job: Obj) -> list[Any]:
    status = job.get("status") or {}
    shown = "Running"
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            shown = cond["type"]
    completions = job.get("spec", {}).get("completions")
    return [shown, f"{status.get('succeeded', 0)}/{completions if completions is not None else 1}"]


def _deployment_cells(deploy: Obj) -> list[Any]:
    status = deploy.get("status") or {}
    return [
        f"{status.get('readyReplicas', 0)}/{deploy.get('spec', {}).get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
    ]


def _event_cells(event: Obj) -> list[Any]:
    involved = event.get("involvedObject") or {}
    return [
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        event.get("message", ""),
    ]


def _node_cells(node: Obj) -> list[Any]:
    ready: dict[str, Any] = next(
        (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {}
    )
    shown = "Ready" if ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        shown += ",SchedulingDisabled"
    return [shown, (node.get("status") or {}).get("nodeInfo", {}).get("kubeletVersion", "")]


_EXTRA = {
    ("v1", "Node"): ([("Status", "string"), ("Version", "string")], _node_cells),
    ("v1", "Event"): (
        [("Type", "string"), ("Reason", "string"), ("Object", "string"), ("Message", "string")],
        _event_cells,
    ),
    ("v1", "Pod"): ([("Ready", "string"), ("Status", "string"), ("Restarts", "integer")], _pod_cells),
    ("batch/v1", "Job"): ([("Status", "string"), ("Completions", "string")], _job_cells),
    ("apps/v1", "Deployment"): (
        [("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer")],
        _deployment_cells,
    ),
}


def table(
    rtype: ResourceType, items: list[Obj], rv: int, continue_token: str | None = None
) -> dict[str, Any]:
    extra_columns, cells = _EXTRA.get((rtype.api_version, rtype.kind), ([], None))
    columns = [("Name", "string"), *extra_columns, ("Age", "string")]
    definitions = [
        {
            "name": name,
            "type": kind,
            "format": "name" if name == "Name" else "",
            "description": name,
            "priority": 0,
        }
        for name, kind in columns
    ]
    rows = []
    for obj in items:
        row_cells = [obj["metadata"]["name"], *(cells(obj) if cells else []), _age(obj)]
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
        rows.append({"cells": row_cells, "object": partial})
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if continue_token:
        meta["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }


async def table_events(rtype: ResourceType, lines: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for line in lines:
        event = json.loads(line)
        if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            obj = event["object"]
            event["object"] = table(rtype, [obj], int(obj["metadata"]["resourceVersion"]))
        yield (json.dumps(event, separators=(",", ":")) + "\n").encode()
