"""Kubernetes objects as users write them in a polyaxonfile: Mizzen's own models, no kubernetes library.

The objects people write often (container, env, ports, mounts, resources, probes, tolerations,
volumes) are models, so typos are caught with the key named. Deep or rarely written objects
(affinity, securityContext, lifecycle, volume sources, podFailurePolicy) are kept as mappings with
their snake_case keys normalised to camelCase: the Kubernetes renderer validates what it emits
against the official schemas.
"""

from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from mizzen.spec.base import (
    Bool,
    Int,
    IntOrStr,
    Quantity,
    ScalarStr,
    SpecModel,
    Str,
    StrictStr,
    StrMap,
    StrOrStrList,
    TplInt,
)

# Keys whose values are user data (label names...), never renamed.
_USER_MAPS = frozenset(
    {"matchLabels", "labels", "annotations", "nodeSelector", "data", "stringData", "volumeAttributes",
     "parameters", "options", "limits", "requests", "match_labels", "node_selector",
     "volume_attributes"}
)  # fmt: skip


def camelize_keys(value: Any) -> Any:
    """snake_case keys of a free-form Kubernetes object to camelCase, recursively."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = to_camel(key) if isinstance(key, str) and "_" in key else key
            out[new_key] = item if key in _USER_MAPS else camelize_keys(item)
        return out
    if isinstance(value, list):
        return [camelize_keys(item) for item in value]
    return value


class K8sModel(SpecModel):
    """A Kubernetes object: free-form sub-objects get their keys normalised."""


class EnvVarSource(K8sModel):
    config_map_key_ref: dict[str, Any] | None = None
    secret_key_ref: dict[str, Any] | None = None
    field_ref: dict[str, Any] | None = None
    resource_field_ref: dict[str, Any] | None = None


class EnvVar(K8sModel):
    name: Str
    value: ScalarStr | None = None
    value_from: EnvVarSource | None = None


class LocalObjectRef(K8sModel):
    name: Str
    optional: Bool | None = None


class EnvFromSource(K8sModel):
    prefix: Str | None = None
    config_map_ref: LocalObjectRef | None = None
    secret_ref: LocalObjectRef | None = None


class ContainerPort(K8sModel):
    container_port: TplInt
    name: Str | None = None
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    host_port: Int | None = None
    host_ip: Str | None = Field(default=None, alias="hostIP")


class VolumeMount(K8sModel):
    name: Str
    mount_path: Str
    read_only: Bool | None = None
    sub_path: Str | None = None
    sub_path_expr: Str | None = None
    mount_propagation: Str | None = None
    recursive_read_only: Str | None = None


class VolumeDevice(K8sModel):
    name: Str
    device_path: Str


class ResourceRequirements(K8sModel):
    limits: dict[StrictStr, Quantity] | None = None
    requests: dict[StrictStr, Quantity] | None = None
    claims: list[dict[str, Any]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _per_resource_form(cls, data: Any) -> Any:
        """Accept the v1 form ``{cpu: {requests: 1, limits: 2}}`` as ``{requests: {cpu: 1}, ...}``."""
        if not isinstance(data, dict):
            return data
        legacy = [
            key
            for key, value in data.items()
            if key not in ("limits", "requests", "claims")
            and isinstance(value, dict)
            and value
            and set(value) <= {"limits", "requests"}
        ]
        if not legacy:
            return data
        out = {key: (dict(v) if isinstance(v, dict) else v) for key, v in data.items() if key not in legacy}
        for resource in legacy:
            for side, amount in data[resource].items():
                bucket = out.setdefault(side, {})
                if isinstance(bucket, dict):
                    bucket[resource] = amount
        return out


class ExecAction(K8sModel):
    command: StrOrStrList | None = None


class HTTPGetAction(K8sModel):
    path: Str | None = None
    port: IntOrStr
    host: Str | None = None
    scheme: Literal["HTTP", "HTTPS"] | None = None
    http_headers: list[dict[str, Any]] | None = None


class TCPSocketAction(K8sModel):
    port: IntOrStr
    host: Str | None = None


class ProbeSpec(K8sModel):
    exec_: ExecAction | None = Field(default=None, alias="exec")
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    grpc: dict[str, Any] | None = None
    initial_delay_seconds: TplInt | None = None
    period_seconds: TplInt | None = None
    timeout_seconds: TplInt | None = None
    success_threshold: TplInt | None = None
    failure_threshold: TplInt | None = None
    termination_grace_period_seconds: TplInt | None = None


def camelize_fields(data: Any, fields: tuple[str, ...]) -> Any:
    """A copy of ``data`` whose free-form ``fields`` (camelCase names, written in either case) have
    their keys camelCased."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for key in data:
        if isinstance(key, str) and (key in fields or ("_" in key and to_camel(key) in fields)):
            out[key] = camelize_keys(out[key])
    return out


class ContainerSpec(K8sModel):
    """A container (Kubernetes ``Container`` fields)."""

    name: Str | None = None
    image: Str | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    command: StrOrStrList | None = None
    args: StrOrStrList | None = None
    working_dir: Str | None = None
    env: list[EnvVar] | None = None
    env_from: list[EnvFromSource] | None = None
    ports: list[ContainerPort] | None = None
    resources: ResourceRequirements | None = None
    resize_policy: list[dict[str, Any]] | None = None
    restart_policy: Str | None = None
    volume_mounts: list[VolumeMount] | None = None
    volume_devices: list[VolumeDevice] | None = None
    liveness_probe: ProbeSpec | None = None
    readiness_probe: ProbeSpec | None = None
    startup_probe: ProbeSpec | None = None
    lifecycle: dict[str, Any] | None = None
    termination_message_path: Str | None = None
    termination_message_policy: Str | None = None
    security_context: dict[str, Any] | None = None
    stdin: Bool | None = None
    stdin_once: Bool | None = None
    tty: Bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = camelize_fields(data, ("lifecycle", "securityContext", "resizePolicy"))
        if isinstance(data.get("env"), dict):  # ``env: {NAME: value}`` as Polyaxon accepts it
            data["env"] = [{"name": name, "value": value} for name, value in data["env"].items()]
        for key in ("volumeMounts", "volume_mounts", "envFrom", "env_from", "ports"):
            if isinstance(data.get(key), dict):  # a single object where a list is expected
                data[key] = [data[key]]
        return data


class Toleration(K8sModel):
    key: Str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: ScalarStr | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: Int | None = None


class HostAlias(K8sModel):
    ip: Str
    hostnames: list[Str] | None = None


class PodDNSConfig(K8sModel):
    nameservers: list[Str] | None = None
    searches: list[Str] | None = None
    options: list[dict[str, Any]] | None = None


class VolumeSpec(K8sModel):
    """A pod volume: a name and one source, the source kept as a (normalised) mapping."""

    name: Str
    aws_elastic_block_store: dict[str, Any] | None = None
    azure_disk: dict[str, Any] | None = None
    azure_file: dict[str, Any] | None = None
    cephfs: dict[str, Any] | None = None
    cinder: dict[str, Any] | None = None
    config_map: dict[str, Any] | None = None
    csi: dict[str, Any] | None = None
    downward_api: dict[str, Any] | None = Field(default=None, alias="downwardAPI")
    empty_dir: dict[str, Any] | None = None
    ephemeral: dict[str, Any] | None = None
    fc: dict[str, Any] | None = None
    flex_volume: dict[str, Any] | None = None
    flocker: dict[str, Any] | None = None
    gce_persistent_disk: dict[str, Any] | None = None
    git_repo: dict[str, Any] | None = None
    glusterfs: dict[str, Any] | None = None
    host_path: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    iscsi: dict[str, Any] | None = None
    nfs: dict[str, Any] | None = None
    persistent_volume_claim: dict[str, Any] | None = None
    photon_persistent_disk: dict[str, Any] | None = None
    portworx_volume: dict[str, Any] | None = None
    projected: dict[str, Any] | None = None
    quobyte: dict[str, Any] | None = None
    rbd: dict[str, Any] | None = None
    scale_io: dict[str, Any] | None = Field(default=None, alias="scaleIO")
    secret: dict[str, Any] | None = None
    storageos: dict[str, Any] | None = None
    vsphere_volume: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {key: (value if key == "name" else camelize_keys(value)) for key, value in data.items()}


__all__ = [
    "ContainerPort",
    "ContainerSpec",
    "EnvFromSource",
    "EnvVar",
    "HostAlias",
    "PodDNSConfig",
    "ProbeSpec",
    "ResourceRequirements",
    "StrMap",
    "Toleration",
    "VolumeMount",
    "VolumeSpec",
    "camelize_fields",
    "camelize_keys",
]
