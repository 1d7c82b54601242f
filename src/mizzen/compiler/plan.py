"""The Plan: Mizzen's executor-neutral intermediate representation.

The compiler turns a polyaxonfile into a Plan; ``render.local`` turns a Plan into processes and
``render.k8s`` into Kubernetes manifests. Nothing here knows either of them. Pod-level objects that
only Kubernetes understands (affinity, tolerations, probes, ...) are carried as camelCase dicts in the
Kubernetes shape, already validated by the spec; the local renderer ignores them.

Paths inside a Plan are the paths the workload sees. The compiler gets them from a
``RuntimeContext`` supplied by whoever will execute the plan: a run folder on this machine for the
local executor, ``/mizzen/...`` mounts for Kubernetes.
"""

# No ``from __future__ import annotations`` here: pydantic builds models faster from evaluated
# annotations than from strings (this module is imported by every ``mizzen check``).

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunKind(StrEnum):
    JOB = "job"
    SERVICE = "service"
    DAG = "dag"
    TFJOB = "tfjob"
    PYTORCHJOB = "pytorchjob"
    MPIJOB = "mpijob"
    RAYCLUSTER = "raycluster"
    DASKCLUSTER = "daskcluster"
    TUNER = "tuner"
    NOTIFIER = "notifier"
    CLEANER = "cleaner"


DISTRIBUTED_KINDS = frozenset(
    {RunKind.TFJOB, RunKind.PYTORCHJOB, RunKind.MPIJOB, RunKind.RAYCLUSTER, RunKind.DASKCLUSTER}
)


class RuntimeContext(_Model):
    """What the executor knows before compiling: identity of the run and where things live.

    Every field is available to templates as ``globals.<field>`` (Polyaxon's key set).
    """

    owner_name: str = "default"
    project_name: str = "default"
    project_uuid: str = "00000000000000000000000000000000"
    uuid: str = "00000000000000000000000000000000"
    name: str | None = None
    run_info: str | None = None  # "owner.project.runs.uuid"
    namespace: str = "default"
    iteration: int | None = None
    # Paths as the workload sees them (Polyaxon's layout, /plx-context -> /mizzen/context):
    context_path: str = "/mizzen/context"  # the run's scratch context (the auth token, configs)
    # Init steps write below this: a git init clones into {artifacts_path}/<repo name>.
    artifacts_path: str = "/mizzen/context/artifacts"
    run_artifacts_path: str = "/mizzen/context/artifacts/run"  # this run's artifacts (archived to the store)
    run_outputs_path: str = "/mizzen/context/artifacts/run/outputs"
    store_path: str = "/mizzen/store"  # the artifacts store: a URL (s3://...) or a mounted folder
    api_host: str = "http://127.0.0.1:8000"
    # URL path a service is served under (``globals.base_url``); None: /services/v1/OWNER/PROJECT/runs/UUID
    base_url: str | None = None
    created_at: str | None = None
    compiled_at: str | None = None
    schedule_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration: float | None = None
    cloning_kind: str | None = None
    original_uuid: str | None = None
    is_independent: bool = True

    def globals(self) -> dict[str, Any]:
        values = self.model_dump()
        values["run_info"] = values["run_info"] or f"{self.owner_name}.{self.project_name}.runs.{self.uuid}"
        return values


class EnvVar(_Model):
    name: str
    value: str | None = None
    # Kubernetes-shaped source (secretKeyRef, configMapKeyRef, fieldRef); local executor resolves
    # secretKeyRef/configMapKeyRef from the connection catalog, ignores fieldRef.
    value_from: dict[str, Any] | None = None


class Port(_Model):
    container_port: int
    name: str | None = None
    protocol: str = "TCP"


class Resources(_Model):
    requests: dict[str, str] = Field(default_factory=dict)  # quantities as strings: "500m", "1Gi"
    limits: dict[str, str] = Field(default_factory=dict)

    @property
    def gpus(self) -> int:
        """GPUs asked for: ``nvidia.com/gpu`` (or ``amd.com/gpu``) in limits, else requests."""
        for key in ("nvidia.com/gpu", "amd.com/gpu"):
            for source in (self.limits, self.requests):
                if key in source:
                    return int(float(source[key]))
        return 0


class VolumeMount(_Model):
    name: str
    mount_path: str
    sub_path: str | None = None
    read_only: bool = False


class ContainerPlan(_Model):
    name: str
    image: str | None = None
    image_pull_policy: str | None = None
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    working_dir: str | None = None
    env: list[EnvVar] = Field(default_factory=list)
    env_from: list[dict[str, Any]] = Field(default_factory=list)  # Kubernetes-shaped
    resources: Resources = Field(default_factory=Resources)
    ports: list[Port] = Field(default_factory=list)
    volume_mounts: list[VolumeMount] = Field(default_factory=list)
    # Any other Kubernetes Container field, camelCase (livenessProbe, lifecycle, securityContext...).
    extra: dict[str, Any] = Field(default_factory=dict)


class Volume(_Model):
    name: str
    # Exactly one Kubernetes-shaped volume source, camelCase:
    # {"hostPath": {...}} | {"persistentVolumeClaim": {...}} | {"secret": {...}} | {"configMap": {...}}
    # | {"emptyDir": {...}} | ...
    source: dict[str, Any]


class GitInit(_Model):
    url: str | None = None  # None: the url comes from the connection
    revision: str | None = None
    flags: list[str] = Field(default_factory=list)


class ArtifactsInit(_Model):
    files: list[str] = Field(default_factory=list)
    dirs: list[str] = Field(default_factory=list)
    workers: int | None = None


class FileInit(_Model):
    content: str
    filename: str = "file"
    chmod: str | None = None


class DockerfileInit(_Model):
    image: str
    env: dict[str, str] = Field(default_factory=dict)
    path: list[str] = Field(default_factory=list)
    copy_: list[str | list[str]] = Field(default_factory=list, alias="copy")
    post_run_copy: list[str | list[str]] = Field(default_factory=list)
    run: list[str] = Field(default_factory=list)
    lang_env: str | None = None
    uid: int | None = None
    gid: int | None = None
    user: str | None = None
    filename: str = "Dockerfile"
    workdir: str | None = None
    workdir_path: str | None = None
    shell: str | None = None


class TensorboardInit(_Model):
    uuids: list[str] = Field(default_factory=list)
    use_names: bool = False
    path_prefix: str | None = None
    plugins: list[str] = Field(default_factory=list)


InitKind = Literal[
    "auth", "git", "artifacts", "paths", "file", "dockerfile", "tensorboard", "lineage", "container"
]


class InitStep(_Model):
    """One thing to prepare before the main container starts, in order."""

    kind: InitKind
    name: str  # unique within the pod, DNS-1123 safe: "init-git-0"
    path: str | None = None  # absolute destination as the workload sees it
    connection: str | None = None
    git: GitInit | None = None
    artifacts: ArtifactsInit | None = None
    paths: list[str | list[str]] = Field(default_factory=list)
    file: FileInit | None = None
    dockerfile: DockerfileInit | None = None
    tensorboard: TensorboardInit | None = None
    lineage: dict[str, Any] | None = None  # lineageRef / modelRef / artifactRef
    container: ContainerPlan | None = None  # a user init container (kind == "container")


class SecretRef(_Model):
    name: str
    items: list[str] = Field(default_factory=list)
    mount_path: str | None = None
    default_mode: int | None = None


class ConnectionPlan(_Model):
    """A connection from the catalog that this run uses, resolved."""

    name: str
    kind: str  # host_path, volume_claim, s3, gcs, wasb, git, registry, ssh, slack, custom, ...
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    secret: SecretRef | None = None
    config_map: SecretRef | None = None
    env: list[EnvVar] = Field(default_factory=list)
    annotations: dict[str, str] = Field(default_factory=dict)


class EnvironmentPlan(_Model):
    """Pod-level settings (Polyaxon's ``environment``), Kubernetes-shaped where they are objects."""

    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    node_selector: dict[str, str] = Field(default_factory=dict)
    affinity: dict[str, Any] | None = None
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    node_name: str | None = None
    service_account_name: str | None = None
    host_aliases: list[dict[str, Any]] = Field(default_factory=list)
    security_context: dict[str, Any] | None = None
    image_pull_secrets: list[str] = Field(default_factory=list)
    host_network: bool | None = None
    host_pid: bool | None = None
    dns_policy: str | None = None
    dns_config: dict[str, Any] | None = None
    scheduler_name: str | None = None
    priority_class_name: str | None = None
    priority: int | None = None
    restart_policy: str | None = None


class PodPlan(_Model):
    """One pod template: what every replica of a role runs."""

    init: list[InitStep] = Field(default_factory=list)
    main: ContainerPlan | None = None  # None only for roles that use the operator's default
    sidecars: list[ContainerPlan] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    connections: list[str] = Field(default_factory=list)  # names into Plan.connections
    environment: EnvironmentPlan = Field(default_factory=EnvironmentPlan)


class ReplicaPlan(_Model):
    """A role of the run: ``main`` for a job/service; master/worker/ps/... for distributed kinds."""

    role: str  # main | master | worker | chief | ps | evaluator | launcher | head | scheduler | job
    group: str | None = None  # ray worker group name
    replicas: int = 1
    min_replicas: int | None = None
    max_replicas: int | None = None
    ray_start_params: dict[str, str] = Field(default_factory=dict)
    pod: PodPlan


class TerminationPlan(_Model):
    max_retries: int | None = None
    timeout: int | None = None  # seconds
    ttl: int | None = None  # seconds after finishing
    culling_timeout: int | None = None
    pod_failure_policy: dict[str, Any] | None = None  # Kubernetes-shaped podFailurePolicy


class PluginsPlan(_Model):
    auth: bool = True
    docker: bool = False
    shm: bool = True
    mount_artifacts_store: bool = False
    collect_artifacts: bool = True
    collect_logs: bool = True
    collect_resources: bool = True
    auto_resume: bool = True
    sync_statuses: bool = True
    log_level: str | None = None
    external_host: bool = False
    sidecar: dict[str, Any] | None = None
    notifications: list[dict[str, Any]] = Field(default_factory=list)


class CachePlan(_Model):
    disable: bool = False
    ttl: int | None = None
    io: list[str] | None = None
    sections: list[str] | None = None


class ServicePlan(_Model):
    ports: list[int] = Field(default_factory=list)
    rewrite_path: bool = False
    is_external: bool = False
    replicas: int = 1


class DistributedPlan(_Model):
    """Options of the distributed kinds that belong to the whole job, not to one role."""

    clean_pod_policy: str | None = None  # All | Running | None
    scheduling_policy: dict[str, Any] | None = None  # minAvailable, queue, priorityClass...
    elastic_policy: dict[str, Any] | None = None  # pytorch: minReplicas, maxReplicas, rdzv...
    n_proc_per_node: int | str | None = None  # pytorch
    slots_per_worker: int | None = None  # mpi
    implementation: str | None = None  # mpi
    success_policy: str | None = None  # tfjob
    # raycluster
    entrypoint: str | None = None
    runtime_env: dict[str, Any] | None = None
    ray_version: str | None = None
    metadata: dict[str, Any] | None = None


class Plan(_Model):
    """A single run, ready to execute. DAGs, matrices and schedules produce many of these."""

    kind: RunKind
    name: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    queue: str | None = None
    namespace: str | None = None
    cost: float | None = None
    is_approved: bool = True
    params: dict[str, Any] = Field(default_factory=dict)  # every input/output value, resolved
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    connections: list[ConnectionPlan] = Field(default_factory=list)
    replicas: list[ReplicaPlan] = Field(default_factory=list)
    termination: TerminationPlan = Field(default_factory=TerminationPlan)
    plugins: PluginsPlan = Field(default_factory=PluginsPlan)
    cache: CachePlan | None = None
    service: ServicePlan | None = None  # kind == service
    distributed: DistributedPlan | None = None  # distributed kinds
    hooks: list[dict[str, Any]] = Field(default_factory=list)
    image_notes: list[str] = Field(default_factory=list)  # images recorded, not run, locally

    def replica(self, role: str) -> ReplicaPlan | None:
        return next((r for r in self.replicas if r.role == role), None)

    @property
    def main(self) -> ReplicaPlan:
        """The single replica of a job/service (the first role otherwise)."""
        return self.replica("main") or self.replicas[0]
