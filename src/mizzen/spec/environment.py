"""``environment``: the pod-level settings of a run (or of one replica)."""

from typing import Any, Literal

from pydantic import Field, model_validator

from mizzen.spec.affinity import AffinitySpec
from mizzen.spec.base import Bool, Int, SpecModel, Str, StrMap
from mizzen.spec.k8s import HostAlias, PodDNSConfig, Toleration, camelize_fields


class EnvironmentSpec(SpecModel):
    labels: StrMap | None = None
    annotations: StrMap | None = None
    node_selector: StrMap | None = None
    affinity: AffinitySpec | None = None
    tolerations: list[Toleration] | None = None
    node_name: Str | None = None
    service_account_name: Str | None = None
    host_aliases: list[HostAlias] | None = None
    security_context: dict[str, Any] | None = None
    image_pull_secrets: list[Str] | None = None
    host_network: Bool | None = None
    host_pid: Bool | None = Field(default=None, alias="hostPID")
    dns_policy: Str | None = None
    dns_config: PodDNSConfig | None = None
    scheduler_name: Str | None = None
    priority_class_name: Str | None = None
    priority: Int | None = None
    restart_policy: Literal["Always", "OnFailure", "Never", "ExitCode"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return camelize_fields(data, ("securityContext",))
