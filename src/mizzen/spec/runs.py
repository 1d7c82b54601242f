"""Run kinds (``run.kind``) other than ``dag``, and their replica specs."""

from typing import Any, Literal

from mizzen.spec.base import Bool, SpecModel, Str, StrMap, TplBool, TplInt
from mizzen.spec.environment import EnvironmentSpec
from mizzen.spec.init import InitSpec
from mizzen.spec.k8s import ContainerSpec, ResourceRequirements, VolumeSpec


class PodFields(SpecModel):
    """What one pod of a run is made of."""

    environment: EnvironmentSpec | None = None
    connections: list[Str] | None = None
    volumes: list[VolumeSpec] | None = None
    init: list[InitSpec] | None = None
    sidecars: list[ContainerSpec] | None = None
    container: ContainerSpec | None = None


class JobSpec(PodFields):
    kind: Literal["job"]


class ServiceSpec(PodFields):
    kind: Literal["service"]
    ports: list[TplInt] | None = None
    rewrite_path: TplBool | None = None
    is_external: TplBool | None = None
    replicas: TplInt | None = None


class NotifierSpec(PodFields):
    kind: Literal["notifier"]


class CleanerSpec(PodFields):
    kind: Literal["cleaner"]


class TunerSpec(PodFields):
    kind: Literal["tuner"]


class ReplicaSpec(PodFields):
    """One replica group of a distributed run (Kubeflow jobs, Dask)."""

    replicas: TplInt | None = None


CleanPodPolicy = Literal["All", "Running", "None"]


class SchedulingPolicySpec(SpecModel):
    min_available: TplInt | None = None
    queue: Str | None = None
    min_resources: TplInt | None = None
    priority_class: Str | None = None
    schedule_timeout_seconds: TplInt | None = None


class TFJobSpec(SpecModel):
    kind: Literal["tfjob"]
    clean_pod_policy: CleanPodPolicy | None = None
    scheduling_policy: SchedulingPolicySpec | None = None
    enable_dynamic_worker: Bool | None = None
    success_policy: Str | None = None
    chief: ReplicaSpec | None = None
    ps: ReplicaSpec | None = None
    worker: ReplicaSpec | None = None
    evaluator: ReplicaSpec | None = None


class ElasticPolicySpec(SpecModel):
    min_replicas: TplInt | None = None
    max_replicas: TplInt | None = None
    rdvz_backend: Str | None = None
    rdvz_port: TplInt | None = None
    rdvz_host: Str | None = None
    rdvz_id: Str | None = None
    rdvz_conf: list[dict[str, Any]] | None = None
    standalone: TplBool | None = None
    n_proc_per_node: TplInt | None = None
    max_restarts: TplInt | None = None
    metrics: list[dict[str, Any]] | None = None


class PyTorchJobSpec(SpecModel):
    kind: Literal["pytorchjob"]
    clean_pod_policy: CleanPodPolicy | None = None
    scheduling_policy: SchedulingPolicySpec | None = None
    elastic_policy: ElasticPolicySpec | None = None
    n_proc_per_node: TplInt | None = None
    master: ReplicaSpec | None = None
    worker: ReplicaSpec | None = None


class MPIJobSpec(SpecModel):
    kind: Literal["mpijob"]
    clean_pod_policy: CleanPodPolicy | None = None
    scheduling_policy: SchedulingPolicySpec | None = None
    slots_per_worker: TplInt | None = None
    launcher: ReplicaSpec | None = None
    worker: ReplicaSpec | None = None


class DaskClusterSpec(SpecModel):
    kind: Literal["daskcluster"]
    worker: ReplicaSpec | None = None
    scheduler: ReplicaSpec | None = None
    min_replicas: TplInt | None = None
    max_replicas: TplInt | None = None


class RayReplicaSpec(PodFields):
    replicas: TplInt | None = None
    min_replicas: TplInt | None = None
    max_replicas: TplInt | None = None
    ray_start_params: StrMap | None = None


class RayAutoscalerOptions(SpecModel):
    upscaling_mode: Str | None = None
    image_pull_policy: Str | None = None
    resources: ResourceRequirements | None = None


class RayClusterSpec(SpecModel):
    kind: Literal["raycluster"]
    entrypoint: Str | None = None
    runtime_env: dict[Str, Any] | None = None
    metadata: StrMap | None = None
    ray_version: Str | None = None
    head: RayReplicaSpec | None = None
    workers: dict[Str, RayReplicaSpec] | None = None
    enable_in_tree_autoscaling: TplBool | None = None
    autoscaler_options: RayAutoscalerOptions | None = None
