"""Deletion: DeleteOptions, finalizers, graceful pod termination and ownerReferences garbage collection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .api import ObjectApi, copy_obj, now
from .resources import ResourceType
from .store import Obj

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
POLICIES = ("Foreground", "Background", "Orphan")


@dataclass
class DeleteOptions:
    propagation_policy: str | None = None
    grace_period_seconds: int | None = None
    preconditions: dict[str, Any] | None = None
    dry_run: bool = False

    @classmethod
    def parse(cls, body: Any, query: dict[str, str]) -> DeleteOptions:
        body = body if isinstance(body, dict) else {}
        policy = query.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = query.get("orphanDependents", body.get("orphanDependents"))
        if policy is None and orphan is not None:
            policy = "Orphan" if str(orphan).lower() == "true" else "Background"
        if policy is not None and policy not in POLICIES:
            raise errors.ApiError(
                422,
                "Invalid",
                f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
                'supported values: "Foreground", "Background", "Orphan", "nil"',
            )
        grace = query.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        dry_run = query.get("dryRun") == "All" or body.get("dryRun") == ["All"]
        return cls(policy, None if grace is None else int(grace), body.get("preconditions"), dry_run)


class Deleter:
    """Deletes objects the way the API server plus garbage collector (and a kubelet) would."""

    def __init__(self, api: ObjectApi) -> None:
        self.api = api
        # called with a pod that was marked for graceful deletion; the default kubelet finishes it at once
        self.on_pod_terminating: Callable[[Obj], None] = self.finish_pod_termination

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, options: DeleteOptions
    ) -> tuple[Obj, bool]:
        """Delete one object; returns (its last state, still pending)."""
        with self.api.store.transaction():
            obj = self.api.get(rtype, namespace, name)
            self._check_preconditions(rtype, obj, options)
            if options.dry_run:
                return obj, False
            policy = options.propagation_policy or rtype.default_propagation
            meta = obj["metadata"]
            if meta.get("deletionTimestamp") and options.grace_period_seconds != 0:
                return obj, True
            if rtype.kind == "Namespace" and not rtype.group:
                return self._delete_namespace(rtype, obj), False
            if rtype.kind == "Pod" and not rtype.group and self._graceful(obj, options):
                return self._terminate_pod(rtype, obj, options), True
            if meta.get("finalizers"):
                pending = self._mark(rtype, obj, [])
                return pending, True
            if rtype.kind == "CustomResourceDefinition":
                self._delete_custom_objects(obj)
            if policy == "Foreground":
                self._mark(rtype, obj, [FOREGROUND])
                for dep_type, dep in self.dependents(obj):
                    self.delete_quietly(dep_type, dep, "Foreground")
                return self._remove(rtype, obj), False
            if policy == "Orphan":
                self._mark(rtype, obj, [ORPHAN])
                self.orphan_dependents(obj)
                return self._remove(rtype, obj), False
            last = self._remove(rtype, obj)
            self.collect_dependents(obj)
            return last, False

    def delete_quietly(self, rtype: ResourceType, obj: Obj, policy: str = "Background") -> None:
        meta = obj["metadata"]
        try:
            self.delete(rtype, meta.get("namespace", ""), meta["name"], DeleteOptions(policy))
        except errors.ApiError as exc:
            if exc.code != 404:
                raise

    def delete_collection(
        self,
        rtype: ResourceType,
        namespace: str | None,
        options: DeleteOptions,
        label: str | None,
        field: str | None,
    ) -> list[Obj]:
        deleted = []
        with self.api.store.transaction():
            for obj in self.api.list(rtype, namespace, label, field):
                meta = obj["metadata"]
                last, _ = self.delete(rtype, meta.get("namespace", ""), meta["name"], options)
                deleted.append(last)
        return deleted

    # -- owners and dependents --------------------------------------------------------------
    def dependents(self, owner: Obj) -> list[tuple[ResourceType, Obj]]:
        uid = owner["metadata"]["uid"]
        namespace = owner["metadata"].get("namespace")
        found = []
        for key in self.api.store.stored_keys():
            rtype = self.api.registry.storage_type(*key)
            if rtype is None:
                continue
            for obj in self.api.store.objects(key, namespace if namespace and rtype.namespaced else None):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in refs):
                    found.append((rtype, obj))
        return found

    def collect_dependents(self, owner: Obj) -> None:
        """Background propagation: delete dependents whose owners are now all gone."""
        for rtype, dep in self.dependents(owner):
            if not self.live_owners(dep):
                self.delete_quietly(rtype, dep, "Background")

    def orphan_dependents(self, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for rtype, dep in self.dependents(owner):
            updated = copy_obj(dep)
            updated["metadata"]["ownerReferences"] = [
                r for r in dep["metadata"]["ownerReferences"] if r.get("uid") != uid
            ]
            if not updated["metadata"]["ownerReferences"]:
                del updated["metadata"]["ownerReferences"]
            self.api.write(rtype, updated)

    def live_owners(self, obj: Obj) -> list[Obj]:
        owners = []
        namespace = obj["metadata"].get("namespace", "")
        for ref in obj["metadata"].get("ownerReferences") or []:
            rtype = self.api.registry.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
            if rtype is None:
                continue
            owner = self.api.store.get(rtype.key, namespace if rtype.namespaced else "", ref.get("name", ""))
            if owner is not None and owner["metadata"]["uid"] == ref.get("uid"):
                owners.append(owner)
        return owners

    # -- pods -------------------------------------------------------------------------------
    def _graceful(self, pod: Obj, options: DeleteOptions) -> bool:
        phase = (pod.get("status") or {}).get("phase")
        grace = options.grace_period_seconds
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        return bool(pod["spec"].get("nodeName")) and phase not in ("Succeeded", "Failed") and grace > 0

    def _terminate_pod(self, rtype: ResourceType, pod: Obj, options: DeleteOptions) -> Obj:
        grace = options.grace_period_seconds
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        updated = copy_obj(pod)
        updated["metadata"]["deletionTimestamp"] = now()
        updated["metadata"]["deletionGracePeriodSeconds"] = grace
        marked = self.api.write(rtype, updated)
        self.on_pod_terminating(marked)
        return self.api.try_get(rtype, marked["metadata"]["namespace"], marked["metadata"]["name"]) or marked

    def finish_pod_termination(self, pod: Obj) -> None:
        """What the kubelet does once the containers have stopped: remove the pod for good."""
        rtype = self.api.rtype("v1", "Pod")
        meta = pod["metadata"]
        with self.api.store.transaction():
            current = self.api.try_get(rtype, meta["namespace"], meta["name"])
            if current is None or not current["metadata"].get("deletionTimestamp"):
                return
            if current["metadata"].get("finalizers"):
                return
            self._remove(rtype, current)
            self.collect_dependents(current)

    # -- internals --------------------------------------------------------------------------
    def _check_preconditions(self, rtype: ResourceType, obj: Obj, options: DeleteOptions) -> None:
        pre = options.preconditions or {}
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.ApiError(
                409,
                "Conflict",
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise errors.ApiError(
                409,
                "Conflict",
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )

    def _mark(self, rtype: ResourceType, obj: Obj, finalizers: list[str]) -> Obj:
        updated = copy_obj(obj)
        meta = updated["metadata"]
        meta.setdefault("deletionTimestamp", now())
        meta.setdefault("deletionGracePeriodSeconds", 0)
        for finalizer in finalizers:
            meta.setdefault("finalizers", [])
            if finalizer not in meta["finalizers"]:
                meta["finalizers"].append(finalizer)
        return self.api.store.put(rtype.key, self._storage_form(rtype, updated), added=False)

    def _remove(self, rtype: ResourceType, obj: Obj) -> Obj:
        meta = obj["metadata"]
        last = self.api.store.remove(rtype.key, meta.get("namespace", ""), meta["name"])
        if rtype.kind == "CustomResourceDefinition":
            self.api.registry.remove_crd(meta["name"])
        return self.api.served(last, rtype)

    def _storage_form(self, rtype: ResourceType, obj: Obj) -> Obj:
        if rtype.is_custom and rtype.version != rtype.storage_version:
            return {**obj, "apiVersion": f"{rtype.group}/{rtype.storage_version}"}
        return obj

    def _delete_namespace(self, rtype: ResourceType, ns_obj: Obj) -> Obj:
        name = ns_obj["metadata"]["name"]
        terminating = copy_obj(ns_obj)
        terminating["metadata"]["deletionTimestamp"] = now()
        terminating["status"] = {"phase": "Terminating"}
        self.api.store.put(rtype.key, terminating, added=False)
        for key in self.api.store.stored_keys():
            content_type = self.api.registry.storage_type(*key)
            if content_type is None or not content_type.namespaced:
                continue
            for obj in self.api.store.objects(key, name):
                self._force_remove(content_type, obj)
        return self._remove(rtype, terminating)

    def _delete_custom_objects(self, crd: Obj) -> None:
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        storage = self.api.registry.storage_type(group, plural)
        if storage is None:
            return
        for obj in self.api.store.objects((group, plural)):
            self.delete_quietly(storage, obj, "Background")

    def _force_remove(self, rtype: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        if self.api.store.get(rtype.key, meta.get("namespace", ""), meta["name"]) is not None:
            self.api.store.remove(rtype.key, meta.get("namespace", ""), meta["name"])
