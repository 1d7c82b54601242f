"""Object semantics shared by HTTP handlers and controllers: create/update/patch with defaulting,
admission, schema checks, resourceVersion preconditions and the status subresource."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

from . import defaults, errors, patching, semantics
from .errors import ApiError, Cause
from .resources import Registry, ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .store import Obj, Store
from .validation import SchemaChecker, apply_crd_defaults

_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Kinds without a spec have no metadata.generation.
_NO_GENERATION = {
    "ConfigMap",
    "Secret",
    "Event",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "Lease",
    "Namespace",
    "Node",
}


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(_NAME_SUFFIX_ALPHABET) for _ in range(length))


def copy_obj(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


class ObjectApi:
    def __init__(self, store: Store, registry: Registry, checker: SchemaChecker) -> None:
        self.store = store
        self.registry = registry
        self.checker = checker
        # admission plugins: called with (rtype, new object, old object or None); raise ApiError to refuse
        self.admission: list[Callable[[ResourceType, Obj, Obj | None], None]] = []

    # -- lookups ----------------------------------------------------------------------------
    def rtype(self, api_version: str, kind: str) -> ResourceType:
        found = self.registry.by_kind(api_version, kind)
        if found is None:
            raise ApiError(404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"')
        return found

    def served(self, obj: Obj, rtype: ResourceType) -> Obj:
        if obj.get("apiVersion") != rtype.api_version:
            return {**obj, "apiVersion": rtype.api_version}
        return obj

    def try_get(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        obj = self.store.get(rtype.key, namespace if rtype.namespaced else "", name)
        return None if obj is None else self.served(obj, rtype)

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.try_get(rtype, namespace, name)
        if obj is None:
            raise errors.not_found(rtype, name)
        return obj

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        labels_match = parse_label_selector(label_selector)
        fields_match = parse_field_selector(field_selector, rtype.kind)
        scope = namespace if rtype.namespaced else None
        return [
            self.served(obj, rtype)
            for obj in self.store.objects(rtype.key, scope)
            if labels_match(obj["metadata"].get("labels") or {}) and fields_match(obj)
        ]

    def namespace_phase(self, namespace: str) -> str | None:
        found = self.store.get(("", "namespaces"), "", namespace)
        return None if found is None else (found.get("status") or {}).get("phase", "Active")

    # -- writes -----------------------------------------------------------------------------
    def create(
        self,
        rtype: ResourceType,
        namespace: str,
        body: Any,
        *,
        dry_run: bool = False,
        keep_status: bool = False,
    ) -> Obj:
        obj = self._decode(rtype, body, namespace)
        meta = obj["metadata"]
        if meta.get("resourceVersion"):
            raise errors.bad_request("resourceVersion should not be set on objects to be created")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        if rtype.is_custom or rtype.kind not in _NO_GENERATION:
            meta["generation"] = 1
        if rtype.has_status and not keep_status and rtype.kind != "Node":
            obj.pop("status", None)
        with self.store.transaction():
            if rtype.namespaced:
                phase = self.namespace_phase(meta["namespace"])
                if phase is None:
                    raise errors.namespace_not_found(meta["namespace"])
                if phase == "Terminating":
                    raise errors.forbidden(
                        f'{rtype.describe()} "{meta.get("name", "")}" is forbidden: unable to create new '
                        f"content in namespace {meta['namespace']} because it is being terminated"
                    )
            self._default(rtype, obj)
            self._validate(rtype, obj, None)
            if self.store.get(rtype.key, meta.get("namespace", ""), meta["name"]) is not None:
                raise errors.already_exists(rtype, meta["name"])
            for check in self.admission:
                check(rtype, obj, None)
            if dry_run:
                return obj
            return self.served(self._put(rtype, obj, added=True), rtype)

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        with self.store.transaction():
            old = self.get(rtype, namespace, name)
            new = self._decode(rtype, body, namespace)
            if new["metadata"].get("name", name) != name:
                raise errors.bad_request(
                    f"the name of the object ({new['metadata'].get('name')}) does not match the name on "
                    f"the URL ({name})"
                )
            sent_rv = new["metadata"].get("resourceVersion")
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            if not sent_rv and rtype.is_custom:
                raise errors.invalid(
                    rtype,
                    name,
                    [
                        Cause(
                            "metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update"
                        )
                    ],
                )
            merged = self._merge_for_update(rtype, old, new, subresource)
            return self._commit_update(rtype, old, merged, dry_run=dry_run)

    def patch(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        content_type: str,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Apply a patch; returns (object, created). Only apply patches create missing objects."""
        patching.check_patch_type(content_type, rtype.is_custom)
        with self.store.transaction():
            old = self.try_get(rtype, namespace, name)
            if old is None:
                if content_type != patching.APPLY_PATCH_YAML or subresource:
                    raise errors.not_found(rtype, name)
                if not isinstance(body, dict):
                    raise errors.bad_request("apply patches must be objects")
                body.setdefault("metadata", {}).setdefault("name", name)
                return self.create(rtype, namespace, body, dry_run=dry_run), True
            patched = patching.apply_patch(content_type, copy_obj(old), body)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            sent_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rtype, name)
            new = self._decode(rtype, patched, namespace)
            merged = self._merge_for_update(rtype, old, new, subresource)
            return self._commit_update(rtype, old, merged, dry_run=dry_run), False

    def write(self, rtype: ResourceType, obj: Obj) -> Obj:
        """Internal write (controllers, kubelet, garbage collector): validated, no subresource rules."""
        with self.store.transaction():
            meta = obj["metadata"]
            old = self.store.get(rtype.key, meta.get("namespace", ""), meta["name"])
            if old is None:
                raise errors.not_found(rtype, meta["name"])
            new = copy_obj(obj)
            new["apiVersion"] = rtype.api_version
            return self._commit_update(rtype, self.served(old, rtype), new, dry_run=False, internal=True)

    def set_status(self, rtype: ResourceType, namespace: str, name: str, status: Obj) -> Obj:
        with self.store.transaction():
            current = self.get(rtype, namespace, name)
            return self.write(rtype, {**current, "status": status})

    # -- internals --------------------------------------------------------------------------
    def _decode(self, rtype: ResourceType, body: Any, namespace: str) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request(f"the body of the request is not a {rtype.kind} object")
        obj = copy_obj(body)
        sent_version, sent_kind = obj.get("apiVersion"), obj.get("kind")
        if sent_kind and sent_kind != rtype.kind:
            raise errors.bad_request(
                f"the kind in the data ({sent_kind}) does not match the expected kind ({rtype.kind})"
            )
        if sent_version and sent_version != rtype.api_version:
            raise errors.bad_request(
                f"the API version in the data ({sent_version}) does not match the expected API version "
                f"({rtype.api_version})"
            )
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
        meta = obj.setdefault("metadata", {})
        if meta is None or not isinstance(meta, dict):
            obj["metadata"] = meta = {}
        if rtype.namespaced:
            sent_ns = meta.get("namespace")
            if sent_ns and sent_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        return obj

    def _default(self, rtype: ResourceType, obj: Obj) -> None:
        if rtype.is_custom:
            apply_crd_defaults(obj, rtype.schema)
        else:
            defaults.apply_defaults(obj)

    def _validate(self, rtype: ResourceType, obj: Obj, old: Obj | None) -> None:
        causes = self.checker.check(obj, rtype) + semantics.check(obj, rtype)
        if old is not None:
            causes += semantics.check_update(old, obj, rtype)
        if causes:
            raise errors.invalid(rtype, obj["metadata"].get("name", ""), causes)

    def _merge_for_update(self, rtype: ResourceType, old: Obj, new: Obj, subresource: str | None) -> Obj:
        """What a PUT/PATCH may change: status only through /status, spec only through the main resource."""
        if subresource == "status":
            merged = copy_obj(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        if rtype.has_status:
            if "status" in old:
                new["status"] = copy_obj(old["status"])
            else:
                new.pop("status", None)
        meta, old_meta = new["metadata"], old["metadata"]
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        return new

    def _commit_update(
        self, rtype: ResourceType, old: Obj, new: Obj, *, dry_run: bool, internal: bool = False
    ) -> Obj:
        """`internal` writes (scheduler binding, kubelet, controllers) skip the user-update rules."""
        self._default(rtype, new)
        if "generation" in old["metadata"] and _spec_of(old) != _spec_of(new):
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        self._validate(rtype, new, None if internal else old)
        for check in self.admission:
            check(rtype, new, old)
        if dry_run:
            return new
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and old["metadata"].get("finalizers"):
            # the last finalizer was removed: the pending deletion completes
            return self.served(self.store.remove(rtype.key, meta.get("namespace", ""), meta["name"]), rtype)
        if _same_content(old, new):
            return old
        return self.served(self._put(rtype, new, added=False), rtype)

    def _put(self, rtype: ResourceType, obj: Obj, *, added: bool) -> Obj:
        if rtype.is_custom and rtype.storage_version and rtype.version != rtype.storage_version:
            obj = {**obj, "apiVersion": f"{rtype.group}/{rtype.storage_version}"}
        return self.store.put(rtype.key, obj, added=added)


def _spec_of(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _same_content(old: Obj, new: Obj) -> bool:
    def strip(obj: Obj) -> Obj:
        meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
        return {**obj, "metadata": meta, "apiVersion": None}

    return strip(old) == strip(new)
