"""Flow sections: ``hooks``, ``joins``, ``events``, ``build``, ``template``, ``trigger``."""

from typing import Any, Literal

from pydantic import Field

from mizzen.spec.base import SpecModel, Str, TplBool, TplInt
from mizzen.spec.lifecycle import CacheSpec, RunStatus
from mizzen.spec.params import ParamSpec

TriggerPolicy = Literal["all_succeeded", "all_failed", "all_done", "one_succeeded", "one_failed", "one_done"]
PatchStrategy = Literal["replace", "isnull", "post_merge", "pre_merge"]

EventKind = Literal[
    "run_status_created", "run_status_resuming", "run_status_compiled", "run_status_on_schedule",
    "run_status_queued", "run_status_scheduled", "run_status_starting", "run_status_running",
    "run_status_processing", "run_status_stopping", "run_status_failed", "run_status_stopped",
    "run_status_succeeded", "run_status_skipped", "run_status_warning", "run_status_unschedulable",
    "run_status_upstream_failed", "run_status_retrying", "run_status_unknown", "run_status_done",
    "run_approved_actor", "run_invalidated_actor", "run_new_artifacts", "connection_git_commit",
    "connection_dataset_version", "connection_registry_image", "alert_info", "alert_warning",
    "alert_critical", "model_version_new_metric", "project_custom_event", "org_custom_event",
]  # fmt: skip


class HookSpec(SpecModel):
    """A component (from the hub) run when this run reaches a status."""

    hub_ref: Str
    connection: Str | None = None
    trigger: RunStatus | None = None
    conditions: Str | None = None
    presets: list[Str] | None = None
    queue: Str | None = None
    namespace: Str | None = None
    params: dict[Str, ParamSpec] | None = None
    disable_defaults: TplBool | None = None


class JoinSpec(SpecModel):
    """Values collected from the runs a query selects."""

    query: Str
    ref: Str | None = None
    sort: Str | None = None
    limit: TplInt | None = None
    offset: TplInt | None = None
    params: dict[Str, ParamSpec] | None = None


class EventTriggerSpec(SpecModel):
    kinds: list[EventKind]
    ref: Str


class BuildSpec(SpecModel):
    """A build operation (a hub component) that produces the image this run uses."""

    hub_ref: Str
    connection: Str | None = None
    presets: list[Str] | None = None
    queue: Str | None = None
    namespace: Str | None = None
    cache: CacheSpec | None = None
    params: dict[Str, ParamSpec] | None = None
    run_patch: dict[Str, Any] | None = None
    patch_strategy: PatchStrategy | None = None


class TemplateSpec(SpecModel):
    enabled: TplBool | None = None
    description: Str | None = None
    fields: list[Str] | None = None


class MountSpec(SpecModel):
    """``mount``: a path from the artifacts store mounted into the run (2.x)."""

    path_from: Str | None = Field(default=None, alias="from")
    path_to: Str | None = Field(default=None, alias="to")
