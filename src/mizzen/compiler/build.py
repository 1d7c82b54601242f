"""The effective, rendered polyaxonfile (camelCase data) of one run → the Plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mizzen.compiler import pod
from mizzen.compiler.locate import Where
from mizzen.compiler.params import ResolvedParam
from mizzen.compiler.plan import (
    DISTRIBUTED_KINDS,
    CachePlan,
    ConnectionPlan,
    DistributedPlan,
    EnvVar,
    InitStep,
    Plan,
    PluginsPlan,
    PodPlan,
    ReplicaPlan,
    RunKind,
    ServicePlan,
    TerminationPlan,
)
from mizzen.compiler.templating import to_text

_PLUGIN_FIELDS = {
    "auth": "auth",
    "docker": "docker",
    "shm": "shm",
    "mountArtifactsStore": "mount_artifacts_store",
    "collectArtifacts": "collect_artifacts",
    "collectLogs": "collect_logs",
    "collectResources": "collect_resources",
    "autoResume": "auto_resume",
    "syncStatuses": "sync_statuses",
    "logLevel": "log_level",
    "externalHost": "external_host",
    "sidecar": "sidecar",
    "notifications": "notifications",
}


def as_int(value: Any, where: Where, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise where.error(f"expected an integer, got {value!r}", field)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise where.error(f"expected an integer, got {value!r}", field) from None


def as_bool(value: Any, where: Where, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise where.error(f"expected true or false, got {value!r}", field)


def param_inits(params: Mapping[str, ResolvedParam], context_path: str) -> list[InitStep]:
    """Inputs with ``toInit``: a git/artifacts/dockerfile/file/tensorboard value becomes an init step."""
    steps: list[InitStep] = []
    for param in params.values():
        if not param.to_init or param.value is None or param.is_deferred:
            continue
        key = {
            "git": "git",
            "artifacts": "artifacts",
            "dockerfile": "dockerfile",
            "file": "file",
            "tensorboard": "tensorboard",
        }.get(param.io_type or "")
        data: dict[str, Any] = {key: param.value} if key else {"paths": [to_text(param.value)]}
        if param.connection:
            data["connection"] = param.connection
        step = pod.init_step(data, 0, Where(label=f"param {param.name}"), context_path)
        steps.append(step.model_copy(update={"name": f"init-param-{param.name}".replace("_", "-").lower()}))
    return steps


def param_env(params: Mapping[str, ResolvedParam]) -> list[EnvVar]:
    """Inputs/outputs with ``toEnv``: an environment variable in the main container."""
    return [
        EnvVar(name=p.to_env, value=to_text(p.value))
        for p in params.values()
        if p.to_env and not p.is_deferred and p.value is not None
    ]


def pod_plan(
    data: Mapping[str, Any],
    where: Where,
    context_path: str,
    *,
    extra_init: list[InitStep] | None = None,
    extra_env: list[EnvVar] | None = None,
    main_name: str = "main",
) -> PodPlan:
    """The pod of a job/service or of one replica; ``where`` points at the section holding it."""
    init = list(extra_init or [])
    for index, item in enumerate(data.get("init") or []):
        init.append(
            pod.init_step(item, len(init) if extra_init else index, where.at("init", index), context_path)
        )
    sidecars = [
        pod.container(item, f"sidecar-{index}", where.at("sidecars", index))
        for index, item in enumerate(data.get("sidecars") or [])
    ]
    main = data.get("container")
    return PodPlan(
        init=init,
        main=pod.container(main, main_name, where.at("container"), extra_env) if main is not None else None,
        sidecars=sidecars,
        volumes=[pod.volume(v, where.at("volumes", i)) for i, v in enumerate(data.get("volumes") or [])],
        connections=[str(c) for c in data.get("connections") or [] if c not in (None, "")],
        environment=pod.environment(data.get("environment")),
    )


def replicas(
    run: Mapping[str, Any],
    where: Where,
    context_path: str,
    extra_init: list[InitStep],
    extra_env: list[EnvVar],
) -> list[ReplicaPlan]:
    kind = run["kind"]
    if kind in pod.POD_KINDS:
        count = as_int(run.get("replicas"), where, "replicas") if kind == "service" else None
        return [
            ReplicaPlan(
                role="main",
                replicas=count or 1,
                pod=pod_plan(run, where, context_path, extra_init=extra_init, extra_env=extra_env),
            )
        ]
    if kind == "raycluster":
        out = []
        if run.get("head") is not None:
            out.append(
                _ray_replica(
                    run["head"],
                    where.at("head"),
                    context_path,
                    role="head",
                    extra_init=extra_init,
                    extra_env=extra_env,
                )
            )
        for group, spec in (run.get("workers") or {}).items():
            out.append(
                _ray_replica(spec, where.at("workers", group), context_path, role="worker", group=group)
            )
        return out
    out = []
    for role in pod.REPLICA_ROLES[kind]:
        spec = run.get(role)
        if spec is None:
            continue
        first = not out
        out.append(
            ReplicaPlan(
                role=role,
                replicas=as_int(spec.get("replicas"), where.at(role), "replicas") or 1,
                pod=pod_plan(
                    spec,
                    where.at(role),
                    context_path,
                    extra_init=extra_init if first else [],
                    extra_env=extra_env,
                    main_name=role,
                ),
            )
        )
    return out


def _ray_replica(
    spec: Mapping[str, Any],
    where: Where,
    context_path: str,
    *,
    role: str,
    group: str | None = None,
    extra_init: list[InitStep] | None = None,
    extra_env: list[EnvVar] | None = None,
) -> ReplicaPlan:
    return ReplicaPlan(
        role=role,
        group=group,
        replicas=as_int(spec.get("replicas"), where, "replicas") or 1,
        min_replicas=as_int(spec.get("minReplicas"), where, "minReplicas"),
        max_replicas=as_int(spec.get("maxReplicas"), where, "maxReplicas"),
        ray_start_params={str(k): str(v) for k, v in (spec.get("rayStartParams") or {}).items()},
        pod=pod_plan(
            spec,
            where,
            context_path,
            extra_init=extra_init,
            extra_env=extra_env,
            main_name=role if group is None else group,
        ),
    )


def distributed(run: Mapping[str, Any], where: Where) -> DistributedPlan | None:
    if run["kind"] not in DISTRIBUTED_KINDS:
        return None
    elastic = run.get("elasticPolicy")
    return DistributedPlan(
        clean_pod_policy=run.get("cleanPodPolicy"),
        scheduling_policy=run.get("schedulingPolicy"),
        elastic_policy=elastic,
        n_proc_per_node=run.get("nProcPerNode"),
        slots_per_worker=as_int(run.get("slotsPerWorker"), where, "slotsPerWorker"),
        implementation=run.get("implementation"),
        success_policy=run.get("successPolicy"),
        entrypoint=run.get("entrypoint"),
        runtime_env=run.get("runtimeEnv"),
        ray_version=run.get("rayVersion"),
        metadata=run.get("metadata"),
    )


def service(run: Mapping[str, Any], where: Where) -> ServicePlan | None:
    if run["kind"] != "service":
        return None
    return ServicePlan(
        ports=[
            p
            for p in (as_int(p, where.at("ports", i), "") for i, p in enumerate(run.get("ports") or []))
            if p is not None
        ],
        rewrite_path=bool(as_bool(run.get("rewritePath"), where, "rewritePath")),
        is_external=bool(as_bool(run.get("isExternal"), where, "isExternal")),
        replicas=as_int(run.get("replicas"), where, "replicas") or 1,
    )


def termination(data: Mapping[str, Any] | None, where: Where) -> TerminationPlan:
    if not data:
        return TerminationPlan()
    return TerminationPlan(
        max_retries=as_int(data.get("maxRetries"), where, "maxRetries"),
        timeout=as_int(data.get("timeout"), where, "timeout"),
        ttl=as_int(data.get("ttl"), where, "ttl"),
        culling_timeout=as_int((data.get("culling") or {}).get("timeout"), where, "culling.timeout"),
        pod_failure_policy=data.get("podFailurePolicy"),
    )


def plugins(data: Mapping[str, Any] | None, where: Where) -> PluginsPlan:
    if not data:
        return PluginsPlan()
    values: dict[str, Any] = {}
    for key, name in _PLUGIN_FIELDS.items():
        if data.get(key) is None:
            continue
        value = data[key]
        if name not in ("log_level", "sidecar", "notifications"):
            value = as_bool(value, where, key)
        values[name] = value
    return PluginsPlan.model_validate(values)


def cache(data: Mapping[str, Any] | None, where: Where) -> CachePlan | None:
    if data is None:
        return None
    return CachePlan(
        disable=bool(as_bool(data.get("disable"), where, "disable")),
        ttl=as_int(data.get("ttl"), where, "ttl"),
        io=data.get("io"),
        sections=data.get("sections"),
    )


def build_plan(
    effective: Mapping[str, Any],
    run: Mapping[str, Any],
    params: Mapping[str, ResolvedParam],
    *,
    connections: Mapping[str, ConnectionPlan],
    op_where: Where,
    run_where: Where,
    context_path: str,
) -> Plan:
    """``effective`` holds the rendered top-level sections, ``run`` the rendered run."""
    kind = run["kind"]
    replica_plans = replicas(
        run, run_where, context_path, param_inits(params, context_path), param_env(params)
    )
    used = {name for replica in replica_plans for name in replica.pod.connections}
    used |= {step.connection for r in replica_plans for step in r.pod.init if step.connection}
    used |= {p.connection for p in params.values() if p.connection}
    values = {name: p.value for name, p in params.items() if not p.is_deferred and p.source != "missing"}
    return Plan(
        kind=RunKind(kind),
        name=effective.get("name"),
        description=effective.get("description"),
        tags=[str(t) for t in effective.get("tags") or []],
        queue=effective.get("queue"),
        namespace=effective.get("namespace"),
        cost=effective.get("cost"),
        is_approved=as_bool(effective.get("isApproved"), op_where, "isApproved") is not False,
        params=values,
        inputs={n: v for n, v in values.items() if params[n].kind == "input"},
        outputs={n: v for n, v in values.items() if params[n].kind == "output"},
        connections=[connections[name] for name in sorted(used) if name in connections],
        replicas=replica_plans,
        termination=termination(effective.get("termination"), op_where.at("termination")),
        plugins=plugins(effective.get("plugins"), op_where.at("plugins")),
        cache=cache(effective.get("cache"), op_where.at("cache")),
        service=service(run, run_where),
        distributed=distributed(run, run_where),
        hooks=list(effective.get("hooks") or []),
    )
