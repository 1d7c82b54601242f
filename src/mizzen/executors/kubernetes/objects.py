"""Creating a run's objects idempotently, and deleting them.

Names are deterministic (``mzn-<kind>-<uuid[:12]>``), so creating twice finds the first one: an
object that exists and carries the same run uuid label is adopted, never duplicated; one that belongs
to another run (or to nobody we know) is a clear error.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mizzen.compiler.plan import Plan, RuntimeContext
from mizzen.errors import ExecutorError
from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter
from mizzen.executors.kubernetes.resources import SECRET, SERVICE, ResourceKind, kind_of
from mizzen.executors.kubernetes.runs import TrackedRun, token_secret_name
from mizzen.render.k8s import RenderOptions
from mizzen.render.k8s.metadata import RUN_UUID
from mizzen.render.k8s.pod import RunRender

log = logging.getLogger(__name__)


def token_secret(plan: Plan, context: RuntimeContext, options: RenderOptions, token: str) -> dict[str, Any]:
    """The per-run Secret that MIZZEN_TOKEN reads (``RenderOptions.token_secret`` names it)."""
    run = RunRender.create(plan, context, options)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": run.object_metadata(token_secret_name(context.uuid)),
        "type": "Opaque",
        "stringData": {options.token_secret_key: token},
    }


def defer_ttl(primary: dict[str, Any], ttl: int | None, backstop: int) -> None:
    """Push the cluster's own ttl cleanup ``backstop`` seconds past ``ttl``: the executor deletes the
    objects itself at ``ttl``, after reading their logs; the cluster's ttl only catches what no
    executor was there to clean."""
    if ttl is None:
        return
    spec = primary.get("spec") or {}
    for holder in (spec, spec.get("runPolicy") or {}):
        if "ttlSecondsAfterFinished" in holder:
            holder["ttlSecondsAfterFinished"] = ttl + backstop


def _owner(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata", {}).get("labels") or {}).get(RUN_UUID)


def create_objects(adapter: KubeAdapter, run: TrackedRun) -> dict[str, Any]:
    """Create (or adopt) every object of ``run``; returns the top-level object as stored."""
    stored_primary: dict[str, Any] | None = None
    stored_others: list[tuple[ResourceKind, dict[str, Any]]] = []
    for obj in run.objects:
        kind = kind_of(obj)
        stored, created = adapter.create(obj)
        owner = _owner(stored)
        if owner != run.label:
            name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
            raise ExecutorError(
                f"{kind.kind} {name} already exists in namespace {namespace} and belongs to "
                f"{'run ' + owner if owner else 'something other than Mizzen'}; "
                "delete it or use another namespace"
            )
        if not created:
            log.info("adopted %s %s of run %s", kind.kind, obj["metadata"]["name"], run.uuid)
        if kind == run.primary_kind and obj["metadata"]["name"] == run.primary_name:
            stored_primary = stored
        else:
            stored_others.append((kind, stored))
    assert stored_primary is not None
    for kind, stored in stored_others:
        _own(adapter, kind, stored, stored_primary)
    return stored_primary


def _own(adapter: KubeAdapter, kind: ResourceKind, obj: dict[str, Any], owner: dict[str, Any]) -> None:
    """Make ``owner`` the owner of ``obj``: Kubernetes deletes it with the owner (stop, ttl)."""
    uid = owner["metadata"]["uid"]
    refs = obj["metadata"].get("ownerReferences") or []
    if any(ref.get("uid") == uid for ref in refs):
        return
    reference = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": uid,
        "blockOwnerDeletion": True,
    }
    meta = obj["metadata"]
    adapter.patch(
        kind, meta["name"], meta["namespace"], {"metadata": {"ownerReferences": [*refs, reference]}}
    )


def delete_objects(adapter: KubeAdapter, run: TrackedRun, *, propagation: str) -> None:
    """Delete the run's top-level object first (its pods go with it), then what serves it."""
    namespace = run.objects[0]["metadata"]["namespace"]
    ordered = sorted(run.objects, key=lambda obj: kind_of(obj) != run.primary_kind)
    for obj in ordered:
        kind = kind_of(obj)
        try:
            adapter.delete(kind, obj["metadata"]["name"], namespace, propagation=propagation)
        except ApiFailure as failure:
            log.warning("deleting %s %s failed: %s", kind.kind, obj["metadata"]["name"], failure)


def remove_leftovers(
    adapter: KubeAdapter,
    run: TrackedRun,
    *,
    timeout: float = 60.0,
    poll: float = 0.1,
) -> bool:
    """Delete the finished objects of an earlier execution of the same run (a resumed run keeps its
    uuid, hence its object names) and wait until they are gone; an unfinished one is adopted later."""
    namespace = run.objects[0]["metadata"]["namespace"]
    existing = adapter.get(run.primary_kind, run.primary_name, namespace)
    if existing is None or _owner(existing) != run.label or not run.finished(existing):
        return False
    log.info("run %s: deleting the objects of its earlier execution", run.uuid)
    delete_objects(adapter, run, propagation="Foreground")
    deadline = time.monotonic() + timeout
    while adapter.get(run.primary_kind, run.primary_name, namespace) is not None:
        if time.monotonic() > deadline:
            raise ExecutorError(
                f"the {run.primary_kind.kind} {run.primary_name} of an earlier execution of this run "
                f"is still being deleted after {timeout:g}s"
            )
        time.sleep(poll)
    return True


def delete_by_label(adapter: KubeAdapter, namespace: str, label: str, kinds: list[ResourceKind]) -> int:
    """Delete every object of ``kinds`` labelled with run ``label``; how many there were."""
    deleted = 0
    selector = f"{RUN_UUID}={label}"
    for kind in [*kinds, SERVICE, SECRET]:
        items, _ = adapter.list(kind, namespace, label_selector=selector)
        for item in items:
            if adapter.delete(kind, item["metadata"]["name"], namespace, propagation="Background"):
                deleted += 1
    return deleted
