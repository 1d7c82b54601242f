"""A replica's PodPlan -> a pod template: containers, init containers, sidecars, volumes, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mizzen.compiler.plan import (
    ConnectionPlan,
    EnvironmentPlan,
    InitStep,
    Plan,
    ReplicaPlan,
    RuntimeContext,
)
from mizzen.errors import ExecutorError
from mizzen.render.k8s import metadata
from mizzen.render.k8s.containers import render_container
from mizzen.render.k8s.env import run_env
from mizzen.render.k8s.init_containers import STORE_READERS, render_init_container
from mizzen.render.k8s.names import dns_label, run_object_name
from mizzen.render.k8s.options import RenderOptions
from mizzen.render.k8s.sidecar import render_sidecar, wants_sidecar
from mizzen.render.k8s.volumes import (
    ARTIFACTS_VOLUME,
    Access,
    VolumeSet,
    artifacts_access,
    connection_access,
    connection_volume_path,
    context_access,
    docker_access,
    shm_access,
)


@dataclass
class RunRender:
    """Everything about a run that every one of its objects and pods shares."""

    plan: Plan
    context: RuntimeContext
    options: RenderOptions
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, plan: Plan, context: RuntimeContext, options: RenderOptions) -> RunRender:
        return cls(
            plan=plan,
            context=context,
            options=options,
            name=run_object_name(plan.kind.value, context.uuid),
            namespace=options.namespace or plan.namespace or context.namespace,
            labels=metadata.identity_labels(plan, context, options),
            annotations=metadata.identity_annotations(plan, context),
        )

    def object_metadata(self, name: str | None = None, user: EnvironmentPlan | None = None) -> dict[str, Any]:
        labels = {**(user.labels if user else {}), **self.labels}
        annotations = {**(user.annotations if user else {}), **self.annotations}
        return metadata.object_metadata(name or self.name, self.namespace, labels, annotations)

    def connection(self, name: str, where: str) -> ConnectionPlan:
        for connection in self.plan.connections:
            if connection.name == name:
                return connection
        raise ExecutorError(f"{where} uses connection '{name}', which is not in the run's plan")


def _store_access(run: RunRender, volumes: VolumeSet) -> Access:
    store = run.options.artifacts_store
    if store is None or store.connection is None:
        return Access()
    return connection_access(volumes, store.connection)


def _store_is_workspace(run: RunRender) -> bool:
    """The artifacts store is a volume mounted right where the run keeps its artifacts."""
    store = run.options.artifacts_store
    return bool(
        store and store.connection and connection_volume_path(store.connection) == run.context.artifacts_path
    )


def _artifacts(run: RunRender, volumes: VolumeSet) -> Access:
    """The run's artifacts folder: the store itself when mounted there, else a pod-local folder."""
    if _store_is_workspace(run):
        return _store_access(run, volumes)
    return artifacts_access(volumes, run.context)


def _init_container(
    run: RunRender, step: InitStep, volumes: VolumeSet, base: Access, env: list[dict[str, Any]]
) -> dict[str, Any]:
    connection = run.connection(step.connection, f"init step '{step.name}'") if step.connection else None
    access = base
    if step.kind in STORE_READERS and connection is None:
        access += _store_access(run, volumes)
    if connection is not None:
        access += connection_access(volumes, connection)
    store = run.options.artifacts_store
    return render_init_container(
        step,
        image=run.options.init_image,
        image_pull_policy=run.options.init_image_pull_policy,
        resources=run.options.init_resources,
        access=access,
        env=env,
        connection=connection,
        default_store=store.url if store else None,
    )


def _apply_environment(spec: dict[str, Any], env: EnvironmentPlan, options: RenderOptions) -> None:
    simple = {
        "nodeSelector": env.node_selector or None,
        "affinity": env.affinity,
        "tolerations": env.tolerations or None,
        "nodeName": env.node_name,
        "serviceAccountName": env.service_account_name or options.service_account_name,
        "hostAliases": env.host_aliases or None,
        "securityContext": env.security_context,
        "hostNetwork": env.host_network,
        "hostPID": env.host_pid,
        "dnsPolicy": env.dns_policy,
        "dnsConfig": env.dns_config,
        "schedulerName": env.scheduler_name,
        "priorityClassName": env.priority_class_name,
        "priority": env.priority,
    }
    spec.update({key: value for key, value in simple.items() if value is not None})
    pull_secrets = list(dict.fromkeys([*env.image_pull_secrets, *options.image_pull_secrets]))
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in pull_secrets]


def _check_mounted_volumes_exist(containers: list[dict[str, Any]], known: set[str]) -> None:
    for container in containers:
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in known:
                raise ExecutorError(
                    f"container '{container['name']}' mounts volume '{mount['name']}' at "
                    f"{mount['mountPath']}, but the run declares no volume of that name"
                )


def render_pod_spec(
    run: RunRender,
    replica: ReplicaPlan,
    main_name: str,
    *,
    restart_policy: str | None,
    native_sidecars: bool | None = None,
) -> dict[str, Any]:
    """The PodSpec of one role of the run. ``restart_policy`` None leaves the field out."""
    pod = replica.pod
    where = f"role '{replica.role}'" if replica.role != "main" else "the main container"
    if pod.main is None:
        raise ExecutorError(f"{where}: the run has no container to start")
    if not pod.main.image:
        raise ExecutorError(f"{where}: the container has no image; set container.image in the polyaxonfile")
    plugins = run.plan.plugins
    volumes = VolumeSet()
    env = run_env(run.context, run.options)
    workspace = context_access(volumes, run.context) + _artifacts(run, volumes)

    main_access = workspace
    if plugins.shm:
        main_access += shm_access(volumes)
    if plugins.docker:
        main_access += docker_access(volumes)
    if plugins.mount_artifacts_store and not _store_is_workspace(run):
        main_access += _store_access(run, volumes)
    for name in pod.connections:
        main_access += connection_access(volumes, run.connection(name, where))
    containers = [render_container(pod.main, main_name, main_access, env, where=where)]
    containers += [
        render_container(sidecar, dns_label(sidecar.name), workspace, env, where=f"sidecar '{sidecar.name}'")
        for sidecar in pod.sidecars
    ]
    init_containers = [_init_container(run, step, volumes, workspace, env) for step in pod.init]

    native = run.options.native_sidecars if native_sidecars is None else native_sidecars
    if wants_sidecar(plugins):
        outputs = Access(mounts=[m for m in workspace.mounts if m["name"] == ARTIFACTS_VOLUME])
        sidecar = render_sidecar(
            context=run.context,
            options=run.options,
            plugins=plugins,
            main_container=main_name,
            access=outputs + _store_access(run, volumes),
            env=env,
            native=native,
        )
        (init_containers if native else containers).append(sidecar)

    for volume in pod.volumes:
        volumes.add(volume.name, volume.source)
    _check_mounted_volumes_exist(init_containers + containers, volumes.names())
    spec: dict[str, Any] = {}
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = containers
    spec["volumes"] = volumes.as_list()
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    _apply_environment(spec, pod.environment, run.options)
    return spec


def render_pod_template(
    run: RunRender,
    replica: ReplicaPlan,
    main_name: str,
    *,
    restart_policy: str | None,
    native_sidecars: bool | None = None,
) -> dict[str, Any]:
    return {
        "metadata": pod_template_metadata(run, replica),
        "spec": render_pod_spec(
            run, replica, main_name, restart_policy=restart_policy, native_sidecars=native_sidecars
        ),
    }


def pod_template_metadata(run: RunRender, replica: ReplicaPlan) -> dict[str, Any]:
    return metadata.pod_metadata(
        run.labels, run.annotations, replica.pod.environment, replica.role, replica.group
    )
