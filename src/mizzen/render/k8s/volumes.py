"""Pod volumes and what each container mounts: the run's context and artifacts folders, plugins
(shm, docker socket) and connections (host paths, claims, secrets, config maps, bucket credentials)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mizzen.compiler.plan import ConnectionPlan, RuntimeContext, SecretRef
from mizzen.errors import ExecutorError
from mizzen.render.k8s.env import env_var
from mizzen.render.k8s.names import dns_label

CONTEXT_VOLUME = "mizzen-context"
ARTIFACTS_VOLUME = "mizzen-artifacts"
SHM_VOLUME = "mizzen-shm"
DOCKER_VOLUME = "mizzen-docker-socket"
DOCKER_SOCKET = "/var/run/docker.sock"

VOLUME_KINDS = frozenset({"host_path", "volume_claim"})


@dataclass
class Access:
    """What a container needs to use something: mounts, env and envFrom entries."""

    mounts: list[dict[str, Any]] = field(default_factory=list)
    env: list[dict[str, Any]] = field(default_factory=list)
    env_from: list[dict[str, Any]] = field(default_factory=list)

    def __add__(self, other: Access) -> Access:
        """Both, once: the same volume mounted twice at one path, or the same env entry, is one."""
        return Access(
            _union(self.mounts, other.mounts),
            _union(self.env, other.env),
            _union(self.env_from, other.env_from),
        )


def _union(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return first + [item for item in second if item not in first]


class VolumeSet:
    """The volumes of one pod, by name; adding the same volume twice is fine, a clash is not."""

    def __init__(self) -> None:
        self._volumes: dict[str, dict[str, Any]] = {}

    def add(self, name: str, source: dict[str, Any]) -> str:
        known = self._volumes.get(name)
        if known is not None and known != source:
            raise ExecutorError(f"two different volumes are named '{name}' in the same pod")
        self._volumes[name] = source
        return name

    def names(self) -> set[str]:
        return set(self._volumes)

    def as_list(self) -> list[dict[str, Any]]:
        return [{"name": name, **source} for name, source in self._volumes.items()]


def schema_value(connection: ConnectionPlan, *keys: str) -> Any:
    """A connection schema field, accepted in camelCase or snake_case."""
    for key in keys:
        if connection.schema_.get(key) is not None:
            return connection.schema_[key]
    return None


def _mount(name: str, path: str, read_only: bool = False) -> dict[str, Any]:
    mount: dict[str, Any] = {"name": name, "mountPath": path}
    if read_only:
        mount["readOnly"] = True
    return mount


def context_access(volumes: VolumeSet, context: RuntimeContext) -> Access:
    volumes.add(CONTEXT_VOLUME, {"emptyDir": {}})
    return Access(mounts=[_mount(CONTEXT_VOLUME, context.context_path)])


def artifacts_access(volumes: VolumeSet, context: RuntimeContext) -> Access:
    """The run's artifacts folder: a pod-local folder that the sidecar archives to the store."""
    volumes.add(ARTIFACTS_VOLUME, {"emptyDir": {}})
    return Access(mounts=[_mount(ARTIFACTS_VOLUME, context.artifacts_path)])


def shm_access(volumes: VolumeSet) -> Access:
    volumes.add(SHM_VOLUME, {"emptyDir": {"medium": "Memory"}})
    return Access(mounts=[_mount(SHM_VOLUME, "/dev/shm")])


def docker_access(volumes: VolumeSet) -> Access:
    volumes.add(DOCKER_VOLUME, {"hostPath": {"path": DOCKER_SOCKET, "type": "Socket"}})
    return Access(mounts=[_mount(DOCKER_VOLUME, DOCKER_SOCKET)])


def connection_volume_path(connection: ConnectionPlan) -> str | None:
    """Where a host_path/volume_claim connection is mounted (None for other kinds)."""
    if connection.kind not in VOLUME_KINDS:
        return None
    return schema_value(connection, "mountPath", "mount_path")


def connection_access(volumes: VolumeSet, connection: ConnectionPlan) -> Access:
    access = Access(env=[env_var(v) for v in connection.env])
    if connection.kind in VOLUME_KINDS:
        access += _volume_connection(volumes, connection)
    if connection.secret is not None:
        access += _key_source(volumes, connection, connection.secret, "secret")
    if connection.config_map is not None:
        access += _key_source(volumes, connection, connection.config_map, "configMap")
    return access


def _volume_connection(volumes: VolumeSet, connection: ConnectionPlan) -> Access:
    mount_path = connection_volume_path(connection)
    read_only = bool(schema_value(connection, "readOnly", "read_only"))
    if connection.kind == "host_path":
        source_key, source_value = "hostPath", schema_value(connection, "hostPath", "host_path")
        source = {"hostPath": {"path": source_value}}
    else:
        source_key, source_value = "volumeClaim", schema_value(connection, "volumeClaim", "volume_claim")
        source = {"persistentVolumeClaim": {"claimName": source_value}}
        if read_only:
            source["persistentVolumeClaim"]["readOnly"] = True
    for key, value in (("mountPath", mount_path), (source_key, source_value)):
        if not value:
            raise ExecutorError(
                f"connection '{connection.name}' ({connection.kind}) has no schema.{key}: "
                f"set it in the connection catalog"
            )
    name = volumes.add(dns_label(f"conn-{connection.name}"), source)
    return Access(mounts=[_mount(name, str(mount_path), read_only)])


def _key_source(volumes: VolumeSet, connection: ConnectionPlan, ref: SecretRef, kind: str) -> Access:
    """A Secret or ConfigMap: mounted as files when it has a mount path, else exposed as env."""
    key_ref, whole_ref = (
        ("secretKeyRef", "secretRef")
        if kind == "secret"
        else (
            "configMapKeyRef",
            "configMapRef",
        )
    )
    if ref.mount_path:
        source: dict[str, Any] = {"secretName": ref.name} if kind == "secret" else {"name": ref.name}
        if ref.items:
            source["items"] = [{"key": key, "path": key} for key in ref.items]
        if ref.default_mode is not None:
            source["defaultMode"] = ref.default_mode
        suffix = "secret" if kind == "secret" else "config"
        name = volumes.add(dns_label(f"conn-{connection.name}-{suffix}"), {kind: source})
        return Access(mounts=[_mount(name, ref.mount_path, read_only=True)])
    if ref.items:
        return Access(
            env=[{"name": key, "valueFrom": {key_ref: {"name": ref.name, "key": key}}} for key in ref.items]
        )
    return Access(env_from=[{whole_ref: {"name": ref.name}}])
