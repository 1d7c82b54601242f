"""Plan -> local process specs (pure): what the local executor starts, with which argv, env and cwd.

No I/O happens here. What needs the machine (free ports, GPUs, the caller's environment) is decided
by the executor and passed in, or layered on top of the specs at launch time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mizzen.compiler.plan import (
    DISTRIBUTED_KINDS,
    ConnectionPlan,
    ContainerPlan,
    EnvVar,
    InitStep,
    Plan,
    PodPlan,
    RunKind,
    RuntimeContext,
)
from mizzen.errors import ExecutorError
from mizzen.runtime_env import runtime_env

SUPPORTED_KINDS = frozenset(
    {RunKind.JOB, RunKind.SERVICE, RunKind.PYTORCHJOB, RunKind.TFJOB, RunKind.NOTIFIER, RunKind.CLEANER}
)
_CLUSTER_HINT = "run it on a cluster: point Mizzen at a server with `mizzen config set host URL`"
UNSUPPORTED_KINDS: dict[RunKind, str] = {
    RunKind.MPIJOB: f"MPI jobs need an MPI launcher across hosts; {_CLUSTER_HINT}",
    RunKind.RAYCLUSTER: f"Ray clusters need KubeRay; {_CLUSTER_HINT}",
    RunKind.DASKCLUSTER: f"Dask clusters need the Dask operator; {_CLUSTER_HINT}",
    RunKind.DAG: "a DAG is run by the scheduler, one operation at a time, not by an executor",
    RunKind.TUNER: "a tuner is run by the scheduler, not by an executor",
}
# Roles that serve the others and never end on their own: the run is done when the rest are.
_SERVING_ROLES = frozenset({"ps", "evaluator"})
_PYTORCH_ROLE_ORDER = ("master", "worker")
_TF_ROLE_ORDER = ("chief", "master", "worker", "ps", "evaluator")
_K8S_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class LocalRenderError(ExecutorError):
    """The plan cannot run on this machine as it is; ``reason`` is short, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SecretCatalog:
    """Values of the secrets and config maps that plans refer to, by name then key."""

    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    config_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def values(self, kind: str, name: str, *, optional: bool = False) -> Mapping[str, str]:
        source = self.secrets if kind == "secret" else self.config_maps
        if name in source:
            return source[name]
        if optional:
            return {}
        raise LocalRenderError(
            f"missing {kind}",
            f"{kind} '{name}' is not in the local catalog: add it to $MIZZEN_HOME/secrets.yaml "
            f"under '{'secrets' if kind == 'secret' else 'config_maps'}: {name}:'",
        )

    def value(self, kind: str, name: str, key: str, *, optional: bool = False) -> str | None:
        values = self.values(kind, name, optional=optional)
        if key in values:
            return values[key]
        if optional:
            return None
        raise LocalRenderError(f"missing {kind} key", f"{kind} '{name}' has no key '{key}'")


@dataclass(frozen=True)
class ProcessSpec:
    """One process to start: a container of a replica, or a container init step."""

    container: str
    argv: list[str]
    env: dict[str, str]  # what Mizzen sets; the executor layers it over the caller's environment
    cwd: str
    role: str = "main"
    replica: str | None = None  # "worker-1" for distributed kinds
    gpus: int = 0
    image: str | None = None

    @property
    def label(self) -> str:
        return f"{self.replica}/{self.container}" if self.replica else self.container


@dataclass(frozen=True)
class InitSpec:
    """One init step with its destination and connection resolved."""

    step: InitStep
    path: str
    connection: ConnectionPlan | None = None
    connection_env: dict[str, str] = field(default_factory=dict)  # credentials, store options
    process: ProcessSpec | None = None  # container init steps


@dataclass(frozen=True)
class ReplicaProcesses:
    role: str
    index: int
    main: ProcessSpec
    sidecars: list[ProcessSpec] = field(default_factory=list)
    completes_run: bool = True  # False for ps/evaluator: stopped once the others are done


@dataclass(frozen=True)
class LocalRun:
    kind: RunKind
    init: list[InitSpec]
    replicas: list[ReplicaProcesses]
    images: list[str]
    notes: list[str]
    service_port: int | None = None

    @property
    def gpus(self) -> int:
        return sum(r.main.gpus for r in self.replicas)

    @property
    def image_message(self) -> str | None:
        if not self.images:
            return None
        names = ", ".join(f"'{i}'" for i in self.images)
        noun = "image" if len(self.images) == 1 else "images"
        return f"{noun} {names} recorded, not run: local runs use this machine's environment"


def check_supported(kind: RunKind) -> None:
    if kind not in SUPPORTED_KINDS:
        why = UNSUPPORTED_KINDS.get(kind, "no local renderer for this kind")
        raise LocalRenderError("unsupported locally", f"kind '{kind}' cannot run locally: {why}")


def ports_needed(plan: Plan) -> int:
    """How many free TCP ports ``render_local`` needs in ``ports``."""
    if plan.kind == RunKind.SERVICE:
        return 1
    if plan.kind == RunKind.PYTORCHJOB:
        return 1
    if plan.kind == RunKind.TFJOB:
        return sum(r.replicas for r in plan.replicas if r.role != "evaluator")
    return 0


def declared_port(plan: Plan) -> int | None:
    """The port a service declares (the executor gives it that port when it is free)."""
    if plan.service and plan.service.ports:
        return plan.service.ports[0]
    main = plan.main.pod.main if plan.replicas else None
    return main.ports[0].container_port if main and main.ports else None


def replica_slots(plan: Plan) -> list[tuple[str, int, PodPlan]]:
    """Every process-running replica as (role, index, pod), in rank order (master/chief first)."""
    order: tuple[str, ...] = ()
    if plan.kind == RunKind.PYTORCHJOB:
        order = _PYTORCH_ROLE_ORDER
    elif plan.kind == RunKind.TFJOB:
        order = _TF_ROLE_ORDER
    rank = {role: i for i, role in enumerate(order)}
    roles = sorted(plan.replicas, key=lambda r: rank.get(r.role, len(rank)))
    if plan.kind not in DISTRIBUTED_KINDS:
        return [(r.role, 0, r.pod) for r in roles[:1]]  # a job or a service is one process locally
    return [(r.role, i, r.pod) for r in roles for i in range(r.replicas)]


def gpus_needed(plan: Plan) -> int:
    """GPUs the main containers of every replica ask for together (0 for kinds not run locally)."""
    if plan.kind not in SUPPORTED_KINDS:
        return 0
    return sum(pod.main.resources.gpus for _role, _index, pod in replica_slots(plan) if pod.main)


def render_local(
    plan: Plan,
    context: RuntimeContext,
    *,
    api_host: str,
    token: str | None = None,
    catalog: SecretCatalog | None = None,
    ports: Sequence[int] = (),
) -> LocalRun:
    check_supported(plan.kind)
    if not plan.replicas:
        raise LocalRenderError("invalid plan", "the plan has no replicas: nothing to run")
    if len(ports) < ports_needed(plan):
        raise LocalRenderError("invalid plan", f"{ports_needed(plan)} free ports needed, {len(ports)} given")
    builder = _Builder(plan, context, api_host, token, catalog or SecretCatalog())
    return builder.build(list(ports))


class _Builder:
    def __init__(
        self, plan: Plan, context: RuntimeContext, api_host: str, token: str | None, catalog: SecretCatalog
    ) -> None:
        self.plan = plan
        self.context = context
        self.catalog = catalog
        self.runtime = runtime_env(context, api_host, token)
        self.connections = {c.name: c for c in plan.connections}
        self.notes: list[str] = []

    def build(self, ports: list[int]) -> LocalRun:
        service_port = ports[0] if self.plan.kind == RunKind.SERVICE else None
        assigned = self._assigned_env(ports)
        replicas: list[ReplicaProcesses] = []
        for role, index, pod in replica_slots(self.plan):
            label = f"{role}-{index}" if self.plan.kind in (RunKind.PYTORCHJOB, RunKind.TFJOB) else None
            extra = dict(assigned.get((role, index), {}))
            if service_port is not None:
                extra |= {"MIZZEN_PORT": str(service_port), "PORT": str(service_port)}
            if pod.main is None:
                raise LocalRenderError("invalid plan", f"role '{role}' has no container to run")
            main = self._process(pod.main, pod=pod, role=role, replica=label, assigned=extra)
            sidecars = [
                self._process(s, pod=pod, role=role, replica=label, assigned=extra) for s in pod.sidecars
            ]
            completes = role not in _SERVING_ROLES or self.plan.kind != RunKind.TFJOB
            replicas.append(ReplicaProcesses(role, index, main, sidecars, completes))
            self._note_pod(pod)
        if self.plan.service and self.plan.service.replicas > 1:
            self.notes.append(f"a service runs 1 replica locally ({self.plan.service.replicas} asked)")
        return LocalRun(
            kind=self.plan.kind,
            init=self._init_specs(),
            replicas=replicas,
            images=self._images(),
            notes=list(dict.fromkeys(self.notes)),
            service_port=service_port,
        )

    # -- replicas -------------------------------------------------------------------------------

    def _assigned_env(self, ports: list[int]) -> dict[tuple[str, int], dict[str, str]]:
        """Distributed-training variables per (role, index)."""
        members = replica_slots(self.plan)
        if self.plan.kind == RunKind.PYTORCHJOB:
            world = str(len(members))
            return {
                (role, index): {
                    "MASTER_ADDR": "127.0.0.1",
                    "MASTER_PORT": str(ports[0]),
                    "WORLD_SIZE": world,
                    "RANK": str(rank),
                    # each process sees only its own GPUs (CUDA_VISIBLE_DEVICES): device 0 is local
                    "LOCAL_RANK": "0",
                }
                for rank, (role, index, _pod) in enumerate(members)
            }
        if self.plan.kind == RunKind.TFJOB:
            cluster: dict[str, list[str]] = {}
            free = iter(ports)
            for role, _index, _pod in members:
                if role != "evaluator":
                    cluster.setdefault(role, []).append(f"127.0.0.1:{next(free)}")
            return {
                (role, index): {
                    "TF_CONFIG": json.dumps(
                        {"cluster": cluster, "task": {"type": role, "index": index}, "environment": "cloud"}
                    )
                }
                for role, index, _pod in members
            }
        return {}

    def _process(
        self,
        container: ContainerPlan,
        *,
        pod: PodPlan,
        role: str,
        replica: str | None,
        assigned: Mapping[str, str],
        connection_names: Sequence[str] = (),
    ) -> ProcessSpec:
        env: dict[str, str] = {}
        for name in [*pod.connections, *connection_names]:
            env |= self.connection_env(self._connection(name, f"container '{container.name}'"))
        env |= self._env_from(container.env_from)
        env |= self._env_vars(container.env, replica)
        env |= self.runtime
        env |= assigned
        argv = [expand_k8s_refs(a, env) for a in [*container.command, *container.args]]
        if not argv:
            raise LocalRenderError(
                "no command",
                f"container '{container.name}' has no command: locally Mizzen runs the command on this "
                "machine, the image's entrypoint is not available",
            )
        cwd = expand_k8s_refs(container.working_dir, env) if container.working_dir else None
        return ProcessSpec(
            container=container.name,
            argv=argv,
            env=env,
            cwd=cwd or self.context.context_path,
            role=role,
            replica=replica,
            gpus=container.resources.gpus,
            image=container.image,
        )

    # -- env ------------------------------------------------------------------------------------

    def connection_env(self, connection: ConnectionPlan) -> dict[str, str]:
        env: dict[str, str] = {}
        for kind, ref in (("secret", connection.secret), ("config_map", connection.config_map)):
            if ref is not None:
                values = self.catalog.values(kind, ref.name)
                keys = ref.items or list(values)
                for key in keys:
                    value = self.catalog.value(kind, ref.name, key)
                    if value is not None:
                        env[key] = value
        return env | self._env_vars(connection.env, None)

    def _env_from(self, sources: list[dict[str, Any]]) -> dict[str, str]:
        env: dict[str, str] = {}
        for source in sources:
            prefix = str(source.get("prefix", ""))
            for key, kind in (("secretRef", "secret"), ("configMapRef", "config_map")):
                ref = source.get(key)
                if isinstance(ref, dict):
                    values = self.catalog.values(kind, str(ref["name"]), optional=bool(ref.get("optional")))
                    env |= {f"{prefix}{k}": v for k, v in values.items()}
        return env

    def _env_vars(self, variables: list[EnvVar], replica: str | None) -> dict[str, str]:
        env: dict[str, str] = {}
        for var in variables:
            if var.value is not None or not var.value_from:
                env[var.name] = expand_k8s_refs(var.value or "", env)
                continue
            value = self._value_from(var, replica)
            if value is not None:
                env[var.name] = value
        return env

    def _value_from(self, var: EnvVar, replica: str | None) -> str | None:
        source = var.value_from or {}
        for key, kind in (("secretKeyRef", "secret"), ("configMapKeyRef", "config_map")):
            ref = source.get(key)
            if isinstance(ref, dict):
                try:
                    return self.catalog.value(
                        kind, str(ref["name"]), str(ref["key"]), optional=bool(ref.get("optional"))
                    )
                except LocalRenderError as error:
                    raise LocalRenderError(error.reason, f"env {var.name}: {error.message}") from None
        field_path = (source.get("fieldRef") or {}).get("fieldPath")
        known = {
            "metadata.name": replica or self.context.name or self.context.uuid,
            "metadata.namespace": self.context.namespace,
            "status.podIP": "127.0.0.1",
            "status.hostIP": "127.0.0.1",
            "spec.nodeName": "localhost",
        }
        if field_path in known:
            return known[field_path]
        self.notes.append(f"env {var.name}: {sorted(source)} has no local value; the variable is not set")
        return None

    # -- init -----------------------------------------------------------------------------------

    def _connection(self, name: str, user: str) -> ConnectionPlan:
        if name not in self.connections:
            raise LocalRenderError(
                "unknown connection",
                f"{user} uses connection '{name}', which is not in the connections catalog: define it "
                "in $MIZZEN_HOME/connections.yaml (README: Connections and secrets)",
            )
        return self.connections[name]

    def _init_specs(self) -> list[InitSpec]:
        specs: list[InitSpec] = []
        seen: list[dict[str, Any]] = []
        for replica in self.plan.replicas:  # roles share this machine: each distinct step runs once
            pod = replica.pod
            for step in pod.init:
                dumped = step.model_dump()
                if dumped in seen:
                    continue
                seen.append(dumped)
                specs.append(self._init_spec(step, pod, replica.role))
        return specs

    def _init_spec(self, step: InitStep, pod: PodPlan, role: str) -> InitSpec:
        connection = (
            self._connection(step.connection, f"init step '{step.name}'") if step.connection else None
        )
        connection_env = self.connection_env(connection) if connection else {}
        process = None
        if step.kind == "container":
            if step.container is None:
                raise LocalRenderError("invalid plan", f"init step '{step.name}' has no container")
            extra = [step.connection] if step.connection else []
            process = self._process(
                step.container, pod=pod, role=role, replica=None, assigned={}, connection_names=extra
            )
            process = replace(process, container=step.name)  # unique in the pod, unlike the container's
        return InitSpec(step, self._init_path(step, connection), connection, connection_env, process)

    def _init_path(self, step: InitStep, connection: ConnectionPlan | None) -> str:
        if step.path:
            return step.path
        root = f"{self.context.context_path}/artifacts"
        if step.kind == "auth":
            return f"{self.context.context_path}/.configs"
        if connection is not None:
            return f"{root}/{connection.name}"
        if step.kind == "git" and step.git and step.git.url:
            return f"{root}/{repo_name(step.git.url)}"
        return root

    # -- notes ----------------------------------------------------------------------------------

    def _images(self) -> list[str]:
        images: list[str] = []
        for replica in self.plan.replicas:
            pod = replica.pod
            containers = [pod.main, *pod.sidecars, *(s.container for s in pod.init)]
            images += [c.image for c in containers if c is not None and c.image]
        return list(dict.fromkeys(images))

    def _note_pod(self, pod: PodPlan) -> None:
        containers = [c for c in (pod.main, *pod.sidecars) if c is not None]
        if pod.volumes or any(c.volume_mounts for c in containers):
            self.notes.append("volumes are not mounted locally: the workload sees this machine's paths")


def repo_name(url: str) -> str:
    """``https://host/org/repo.git`` -> ``repo``."""
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name.removesuffix(".git") or "repo"


def expand_k8s_refs(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion in command, args and env: defined names are replaced,
    ``$$`` escapes a ``$``, undefined references are left as they are."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "$"
        return env.get(name, match.group(0))

    return _K8S_VAR_REF.sub(replace, text)
