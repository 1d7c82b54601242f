"""How a run ends and what runs beside it: ``termination``, ``plugins``, ``cache``."""

from typing import Any, Literal

from pydantic import Field, model_validator

from mizzen.spec.base import Int, SpecModel, Str, TplBool, TplInt
from mizzen.spec.k8s import ExecAction, HTTPGetAction, camelize_fields

RunStatus = Literal[
    "created", "resuming", "on_schedule", "compiled", "queued", "scheduled", "starting", "running",
    "processing", "stopping", "failed", "stopped", "succeeded", "skipped", "warning", "unschedulable",
    "upstream_failed", "retrying", "unknown", "done",
]  # fmt: skip


class CullingSpec(SpecModel):
    timeout: Int | None = None


class ActivityProbeSpec(SpecModel):
    exec_: ExecAction | None = Field(default=None, alias="exec")
    http: HTTPGetAction | None = None


class TerminationSpec(SpecModel):
    max_retries: TplInt | None = None
    ttl: TplInt | None = None
    timeout: TplInt | None = None
    culling: CullingSpec | None = None
    probe: ActivityProbeSpec | None = None
    pod_failure_policy: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        return camelize_fields(data, ("podFailurePolicy",))


class NotificationSpec(SpecModel):
    connections: list[Str]
    trigger: RunStatus | None = None


class SidecarSettings(SpecModel):
    image: Str | None = None
    image_tag: Str | None = None
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    sleep_interval: TplInt | None = None
    sync_interval: TplInt | None = None
    monitor_logs: TplBool | None = None
    monitor_spec: TplBool | None = None
    no_connections: TplBool | None = None
    resources: dict[str, Any] | None = None


class PluginsSpec(SpecModel):
    auth: TplBool | None = None
    docker: TplBool | None = None
    shm: TplBool | None = None
    tmux: TplBool | None = None
    sandbox: TplBool | None = None
    ssh: TplBool | None = None
    mount_artifacts_store: TplBool | None = None
    collect_artifacts: TplBool | None = None
    collect_logs: TplBool | None = None
    collect_resources: TplBool | None = None
    sync_statuses: TplBool | None = None
    auto_resume: TplBool | None = None
    log_level: Str | None = None
    external_host: TplBool | None = None
    sidecar: SidecarSettings | None = None
    notifications: list[NotificationSpec] | None = None


class CacheSpec(SpecModel):
    disable: TplBool | None = None
    ttl: TplInt | None = None
    io: list[Str] | None = None
    sections: list[Literal["containers", "init", "connections"]] | None = None
