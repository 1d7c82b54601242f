"""Controller plumbing: a level-triggered work queue drained after each API transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from ..api import ObjectApi, copy_obj
from ..errors import ApiError
from ..events import EventRecorder
from ..gc import Deleter
from ..resources import ResourceType
from ..store import Change, Obj

log = logging.getLogger(__name__)
_MAX_RECONCILES = 10_000


class Controller(Protocol):
    group: str
    kinds: tuple[str, ...]

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None: ...


class ControllerContext:
    """What controllers share: the object API, the deleter and the event recorder."""

    def __init__(self, api: ObjectApi, deleter: Deleter, events: EventRecorder) -> None:
        self.api = api
        self.deleter = deleter
        self.events = events
        self.pod_type = api.rtype("v1", "Pod")

    def owner_reference(self, owner: Obj) -> dict[str, Any]:
        return {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def owned(self, rtype: ResourceType, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        return [
            obj
            for obj in self.api.list(rtype, owner["metadata"].get("namespace"))
            if any(
                r.get("uid") == uid and r.get("controller")
                for r in obj["metadata"].get("ownerReferences") or []
            )
        ]

    def create_owned(
        self,
        rtype: ResourceType,
        owner: Obj,
        obj: Obj,
        component: str,
    ) -> Obj | None:
        """Create a dependent; a refusal becomes a FailedCreate event on the owner, as real controllers do."""
        meta = obj.setdefault("metadata", {})
        meta.setdefault("ownerReferences", []).append(self.owner_reference(owner))
        try:
            created = self.api.create(rtype, owner["metadata"]["namespace"], obj)
        except ApiError as exc:
            if exc.code == 409:
                return None
            self.events.record(owner, "Warning", "FailedCreate", f"Error creating: {exc.message}", component)
            return None
        if rtype.kind == "Pod":
            self.events.record(
                owner, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}", component
            )
        return created

    def pod_from_template(
        self, template: Obj, *, labels: dict[str, str], annotations: dict[str, str] | None = None
    ) -> Obj:
        tmpl = copy_obj(template)
        meta = tmpl.get("metadata") or {}
        pod_meta: dict[str, Any] = {"labels": {**(meta.get("labels") or {}), **labels}}
        if meta.get("annotations") or annotations:
            pod_meta["annotations"] = {**(meta.get("annotations") or {}), **(annotations or {})}
        if meta.get("finalizers"):
            pod_meta["finalizers"] = meta["finalizers"]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": tmpl.get("spec") or {}}

    def update_status(self, rtype: ResourceType, obj: Obj, status: Obj) -> Obj:
        if obj.get("status") == status:
            return obj
        return self.api.write(rtype, {**obj, "status": status})


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase", "Pending"))


def is_active(pod: Obj) -> bool:
    return phase(pod) not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


_PROBE_STAMPS = ("lastUpdateTime", "lastProbeTime")


def set_condition(conditions: list[Obj], new: Obj) -> list[Obj]:
    """Replace the condition of the same type. An unchanged status keeps its lastTransitionTime, and a
    condition that differs only in its probe/update stamps is kept as it was (no needless write)."""
    result = []
    replaced = False
    for cond in conditions:
        if cond.get("type") != new["type"]:
            result.append(cond)
            continue
        replaced = True
        updated = new
        if cond.get("status") == new.get("status"):
            if "lastTransitionTime" in cond:
                updated = {**new, "lastTransitionTime": cond["lastTransitionTime"]}
            same = {k: v for k, v in cond.items() if k not in _PROBE_STAMPS} == {
                k: v for k, v in updated.items() if k not in _PROBE_STAMPS
            }
            if same:
                updated = cond
        result.append(updated)
    if not replaced:
        result.append(new)
    return result


def has_condition(obj: Obj, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


class ControllerManager:
    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.enabled = True
        self.errors: list[BaseException] = []
        self._controllers: dict[tuple[str, str], Controller] = {}
        self._disabled: set[str] = set()
        self._queue: dict[tuple[str, str, str, str], None] = {}
        self._draining = False
        store = ctx.api.store
        store.on_commit(self._on_commit)
        store.after_transaction(self.drain)

    def register(self, controller: Controller) -> None:
        for kind in controller.kinds:
            self._controllers[(controller.group, kind)] = controller

    def disable(self, *kinds: str) -> None:
        self._disabled.update(kinds)

    def enable(self, *kinds: str) -> None:
        self._disabled.difference_update(kinds)

    def _enqueue(self, group: str, kind: str, namespace: str, name: str) -> None:
        if (group, kind) in self._controllers:
            self._queue[(group, kind, namespace, name)] = None

    def _on_commit(self, change: Change) -> None:
        for controller in set(self._controllers.values()):
            observe = getattr(controller, "observe", None)
            if observe is not None:
                observe(change)
        obj = change.obj
        self._enqueue(change.key[0], obj.get("kind", ""), change.namespace, change.name)
        for ref in obj["metadata"].get("ownerReferences") or []:
            group = ref.get("apiVersion", "").rpartition("/")[0]
            self._enqueue(group, ref.get("kind", ""), change.namespace, ref.get("name", ""))
        if change.type == "ADDED" and obj["metadata"].get("ownerReferences"):
            self._queue[
                ("", "__gc__", change.key[0] + "/" + change.key[1], change.namespace + "/" + change.name)
            ] = None

    def pending(self) -> Iterable[tuple[str, str, str, str]]:
        return list(self._queue)

    def drain(self) -> None:
        if self._draining or not self.enabled:
            return
        self._draining = True
        try:
            for _ in range(_MAX_RECONCILES):
                if not self._queue:
                    return
                item = next(iter(self._queue))
                del self._queue[item]
                try:
                    self._run(item)
                except ApiError as exc:
                    if exc.code != 404:  # a kind the controller needs went away (its CRD was removed)
                        log.exception("k8s double controller failed on %s", item)
                        self.errors.append(exc)
                except Exception as exc:  # a controller bug must not kill the API call that triggered it
                    log.exception("k8s double controller failed on %s", item)
                    self.errors.append(exc)
            raise RuntimeError("controllers did not settle: a reconcile loop keeps writing")
        finally:
            self._draining = False

    def _run(self, item: tuple[str, str, str, str]) -> None:
        group, kind, namespace, name = item
        api = self.ctx.api
        if kind == "__gc__":
            self._collect_if_orphaned(namespace, name)
            return
        if kind in self._disabled:
            return
        controller = self._controllers[(group, kind)]
        for rtype in api.registry.all_types():
            if (
                rtype.group == group
                and rtype.kind == kind
                and (not rtype.is_custom or rtype.version == rtype.storage_version)
            ):
                controller.reconcile(rtype, namespace, name)
                return

    def _collect_if_orphaned(self, key: str, where: str) -> None:
        group, plural = key.split("/", 1)
        namespace, name = where.split("/", 1)
        rtype = self.ctx.api.registry.storage_type(group, plural)
        if rtype is None:
            return
        obj = self.ctx.api.store.get(rtype.key, namespace, name)
        if (
            obj is not None
            and obj["metadata"].get("ownerReferences")
            and not self.ctx.deleter.live_owners(obj)
        ):
            self.ctx.deleter.delete_quietly(rtype, obj, "Background")
