"""The top of a polyaxonfile: ``kind: component`` and ``kind: operation``, and the ``dag`` run kind.

They are defined together because a DAG holds operations and components, which hold runs.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic_core import PydanticCustomError

from mizzen.spec.base import (
    Plain,
    Quantity,
    SpecModel,
    Str,
    StrOrStrList,
    TplBool,
    TplInt,
    TplNumber,
    TplPosInt,
    describe,
    is_template,
    type_error,
)
from mizzen.spec.environment import EnvironmentSpec
from mizzen.spec.flow import (
    BuildSpec,
    EventTriggerSpec,
    HookSpec,
    JoinSpec,
    MountSpec,
    PatchStrategy,
    TemplateSpec,
    TriggerPolicy,
)
from mizzen.spec.init import InitSpec
from mizzen.spec.io import IOSpec
from mizzen.spec.k8s import ContainerSpec, VolumeSpec
from mizzen.spec.lifecycle import CacheSpec, PluginsSpec, TerminationSpec
from mizzen.spec.matrix import EarlyStoppingSpec, MatrixSpec
from mizzen.spec.params import ParamSpec
from mizzen.spec.runs import (
    CleanerSpec,
    CleanPodPolicy,
    DaskClusterSpec,
    ElasticPolicySpec,
    JobSpec,
    MPIJobSpec,
    NotifierSpec,
    PodFields,
    PyTorchJobSpec,
    RayAutoscalerOptions,
    RayClusterSpec,
    RayReplicaSpec,
    ReplicaSpec,
    SchedulingPolicySpec,
    ServiceSpec,
    TFJobSpec,
    TunerSpec,
)
from mizzen.spec.schedules import ScheduleSpec

SUPPORTED_VERSIONS = "1, 1.0 or 1.1"
NAME_PATTERN = r"^[-a-zA-Z0-9_]+$"


_NAME_RE = re.compile(NAME_PATTERN)


def _name(value: Any) -> str:
    if is_template(value) or (isinstance(value, str) and _NAME_RE.match(value)):
        return value
    raise type_error("a name made of letters, digits, '-' and '_'", value)


Name = Annotated[str, Plain(_name)]


class DagSpec(SpecModel):
    """A pipeline of operations (``run.kind: dag``)."""

    kind: Literal["dag"]
    operations: list["OperationSpec"] | None = None
    components: list["ComponentSpec"] | None = None
    environment: EnvironmentSpec | None = None
    connections: list[Str] | None = None
    volumes: list[VolumeSpec] | None = None
    concurrency: TplPosInt | None = None
    early_stopping: list[EarlyStoppingSpec] | None = None


RunSpec = Annotated[
    JobSpec
    | ServiceSpec
    | DagSpec
    | TFJobSpec
    | PyTorchJobSpec
    | MPIJobSpec
    | RayClusterSpec
    | DaskClusterSpec
    | TunerSpec
    | NotifierSpec
    | CleanerSpec,
    Field(discriminator="kind"),
]


class RunPatchSpec(PodFields):
    """``runPatch``: a partial run of any kind, merged into the component's run by the compiler."""

    kind: Literal[
        "job", "service", "dag", "tfjob", "pytorchjob", "mpijob", "raycluster", "daskcluster", "tuner",
        "notifier", "cleaner",
    ] | None = None  # fmt: skip
    ports: list[TplInt] | None = None
    rewrite_path: TplBool | None = None
    is_external: TplBool | None = None
    replicas: TplInt | None = None
    clean_pod_policy: CleanPodPolicy | None = None
    scheduling_policy: SchedulingPolicySpec | None = None
    enable_dynamic_worker: TplBool | None = None
    success_policy: Str | None = None
    chief: ReplicaSpec | None = None
    ps: ReplicaSpec | None = None
    worker: ReplicaSpec | None = None
    evaluator: ReplicaSpec | None = None
    master: ReplicaSpec | None = None
    launcher: ReplicaSpec | None = None
    scheduler: ReplicaSpec | None = None
    elastic_policy: ElasticPolicySpec | None = None
    n_proc_per_node: TplInt | None = None
    slots_per_worker: TplInt | None = None
    min_replicas: TplInt | None = None
    max_replicas: TplInt | None = None
    entrypoint: Str | None = None
    runtime_env: dict[Str, Any] | None = None
    metadata: dict[Str, Str] | None = None
    ray_version: Str | None = None
    head: RayReplicaSpec | None = None
    workers: dict[Str, RayReplicaSpec] | None = None
    enable_in_tree_autoscaling: TplBool | None = None
    autoscaler_options: RayAutoscalerOptions | None = None
    operations: list["OperationSpec"] | None = None
    components: list["ComponentSpec"] | None = None
    concurrency: TplPosInt | None = None
    early_stopping: list[EarlyStoppingSpec] | None = None


def _check_version(value: Any) -> Any:
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise PydanticCustomError(
            "mizzen_version",
            "expected a spec version ({supported}), got {got}",
            {"supported": SUPPORTED_VERSIONS, "got": describe(value)},
        )
    if number > 1.1:
        raise PydanticCustomError(
            "mizzen_version",
            "unsupported spec version {got}: Mizzen reads polyaxonfile spec {supported}",
            {"supported": SUPPORTED_VERSIONS, "got": describe(value)},
        )
    return value


Version = Annotated[int | float | str, Plain(_check_version)]


class _PolyaxonfileBase(SpecModel):
    """Sections a component and an operation share (2.x lets an operation carry a component's too)."""

    version: Version | None = None
    name: Name | None = None
    description: Str | None = None
    tags: list[Str] | None = None
    presets: list[Str] | None = None
    strict_params: TplBool | None = None
    queue: Str | None = None
    namespace: Str | None = None
    cache: CacheSpec | None = None
    termination: TerminationSpec | None = None
    plugins: PluginsSpec | None = None
    build: BuildSpec | None = None
    hooks: list[HookSpec] | None = None
    is_approved: TplBool | None = None
    cost: TplNumber | None = None
    template: TemplateSpec | None = None
    inputs: list[IOSpec] | None = None
    outputs: list[IOSpec] | None = None
    run: RunSpec | None = None
    # 2.x shortcuts: a job written without a ``run`` section.
    container: ContainerSpec | None = None
    cmd: StrOrStrList | None = None
    env: dict[Str, Str] | None = None
    resources: dict[Str, Quantity] | None = None
    ports: list[TplInt] | None = None
    environment: EnvironmentSpec | None = None
    init: list[InitSpec] | None = None
    connections: list[Str] | None = None
    sidecars: list[ContainerSpec] | None = None
    volumes: list[VolumeSpec] | None = None
    mount: list[Str | MountSpec] | None = None


class ComponentSpec(_PolyaxonfileBase):
    """``kind: component``: a reusable, typed definition of what to run."""

    kind: Literal["component"] | None = None


class OperationSpec(_PolyaxonfileBase):
    """``kind: operation``: runs a component (inline or by reference) with params and policies."""

    kind: Literal["operation"] | None = None
    params: dict[Str, ParamSpec] | None = None
    run_patch: RunPatchSpec | None = None
    patch_strategy: PatchStrategy | None = None
    is_preset: TplBool | None = None
    component: ComponentSpec | None = None
    hub_ref: Str | None = None
    path_ref: Str | None = None
    url_ref: Str | None = None
    dag_ref: Str | None = None
    schedule: ScheduleSpec | None = None
    events: list[EventTriggerSpec] | None = None
    matrix: MatrixSpec | None = None
    joins: list[JoinSpec] | None = None
    dependencies: list[Str] | None = None
    trigger: TriggerPolicy | None = None
    conditions: Str | None = None
    skip_on_upstream_skip: TplBool | None = None


# Keys an operation has and a component has not: named in the "unknown key" message.
OPERATION_ONLY_KEYS = frozenset(
    {"params", "runPatch", "patchStrategy", "isPreset", "component", "hubRef", "pathRef", "urlRef",
     "dagRef", "schedule", "events", "matrix", "joins", "dependencies", "trigger", "conditions",
     "skipOnUpstreamSkip"}
)  # fmt: skip

DagOperation = OperationSpec

# OperationSpec, defined last, is complete; ComponentSpec, used by the loader, is finished here.
# DagSpec and RunPatchSpec are only used inside them (pydantic completes them on first direct use).
ComponentSpec.model_rebuild()
