"""The resource types the double serves: built-in kinds plus those defined by stored CRDs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # "status", "log", "scale"
    # Kubernetes returns the deleted object for these; a Status for the others.
    returns_deleted_object: bool = False
    # batch/v1 Jobs keep the legacy default: deleting one through the API orphans its pods.
    default_propagation: str = "Background"
    crd_name: str | None = None  # set for custom resources
    storage_version: str = ""  # for custom resources served in several versions
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: the same objects are served under every version of a group."""
        return (self.group, self.plural)

    @property
    def is_custom(self) -> bool:
        return self.crd_name is not None

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def describe(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _core(kind: str, plural: str, short: Iterable[str] = (), **kw: Any) -> ResourceType:
    return ResourceType("", "v1", kind, plural, kind.lower(), kw.pop("namespaced", True), tuple(short), **kw)


def _grouped(group: str, kind: str, plural: str, short: Iterable[str] = (), **kw: Any) -> ResourceType:
    return ResourceType(
        group,
        kw.pop("version", "v1"),
        kind,
        plural,
        kind.lower(),
        kw.pop("namespaced", True),
        tuple(short),
        **kw,
    )


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _core(
        "Pod",
        "pods",
        ["po"],
        categories=("all",),
        subresources=("status", "log"),
        returns_deleted_object=True,
    ),
    _core(
        "Service",
        "services",
        ["svc"],
        categories=("all",),
        subresources=("status",),
        returns_deleted_object=True,
    ),
    _core("ConfigMap", "configmaps", ["cm"]),
    _core("Secret", "secrets"),
    _core("Event", "events", ["ev"]),
    _core("ServiceAccount", "serviceaccounts", ["sa"]),
    _core("PersistentVolumeClaim", "persistentvolumeclaims", ["pvc"], subresources=("status",)),
    _core(
        "Namespace",
        "namespaces",
        ["ns"],
        namespaced=False,
        subresources=("status",),
        returns_deleted_object=True,
    ),
    _core("Node", "nodes", ["no"], namespaced=False, subresources=("status",)),
    _core("PersistentVolume", "persistentvolumes", ["pv"], namespaced=False, subresources=("status",)),
    _grouped(
        "batch",
        "Job",
        "jobs",
        categories=("all",),
        subresources=("status",),
        default_propagation="Orphan",
    ),
    _grouped("batch", "CronJob", "cronjobs", ["cj"], categories=("all",), subresources=("status",)),
    _grouped("apps", "Deployment", "deployments", ["deploy"], categories=("all",), subresources=("status",)),
    _grouped("apps", "ReplicaSet", "replicasets", ["rs"], categories=("all",), subresources=("status",)),
    _grouped("apps", "StatefulSet", "statefulsets", ["sts"], categories=("all",), subresources=("status",)),
    _grouped("rbac.authorization.k8s.io", "Role", "roles"),
    _grouped("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    _grouped("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced=False),
    _grouped("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _grouped("scheduling.k8s.io", "PriorityClass", "priorityclasses", ["pc"], namespaced=False),
    _grouped("coordination.k8s.io", "Lease", "leases"),
    _grouped(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        ["crd", "crds"],
        namespaced=False,
        subresources=("status",),
    ),
)


def types_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """One ResourceType per served version of a CustomResourceDefinition object."""
    spec = crd["spec"]
    names = spec["names"]
    storage = next((v["name"] for v in spec["versions"] if v.get("storage")), spec["versions"][0]["name"])
    found = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subresources = tuple(sorted(version.get("subresources", {}) or {}))
        found.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular", names["kind"].lower()),
                namespaced=spec["scope"] == "Namespaced",
                short_names=tuple(names.get("shortNames", ())),
                categories=tuple(names.get("categories", ())),
                subresources=subresources,
                returns_deleted_object=True,
                crd_name=crd["metadata"]["name"],
                storage_version=storage,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            )
        )
    return found


class Registry:
    """Looks resource types up by URL parts or by apiVersion/kind; CRD types come and go."""

    def __init__(self) -> None:
        self._custom: dict[str, list[ResourceType]] = {}

    def set_crd(self, crd: dict[str, Any]) -> None:
        self._custom[crd["metadata"]["name"]] = types_from_crd(crd)

    def remove_crd(self, name: str) -> None:
        self._custom.pop(name, None)

    def all_types(self) -> list[ResourceType]:
        types = list(BUILTIN_TYPES)
        for custom in self._custom.values():
            types.extend(custom)
        return types

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rtype in self.all_types():
            if rtype.group == group and rtype.version == version and rtype.plural == plural:
                return rtype
        return None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rtype in self.all_types():
            if rtype.group == group and rtype.version == version and rtype.kind == kind:
                return rtype
        return None

    def storage_type(self, group: str, plural: str) -> ResourceType | None:
        """The type objects of (group, plural) are stored as (the storage version for CRDs)."""
        for rtype in self.all_types():
            if rtype.key == (group, plural) and (
                not rtype.is_custom or rtype.version == rtype.storage_version
            ):
                return rtype
        return None

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions, the preferred (storage) version first."""
        found: dict[str, list[str]] = {}
        for rtype in self.all_types():
            versions = found.setdefault(rtype.group, [])
            if rtype.version not in versions:
                if rtype.is_custom and rtype.version == rtype.storage_version:
                    versions.insert(0, rtype.version)
                else:
                    versions.append(rtype.version)
        return found

    def types_in(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.all_types() if t.group == group and t.version == version]
