"""One Plan container -> one Kubernetes container dict, and the names containers get per kind."""

from __future__ import annotations

from typing import Any

from mizzen.compiler.plan import ContainerPlan, Resources, RunKind
from mizzen.errors import ExecutorError
from mizzen.render.k8s.env import env_var, merge_env
from mizzen.render.k8s.names import port_name
from mizzen.render.k8s.volumes import Access

MAIN_CONTAINER = "mizzen-main"
SIDECAR_CONTAINER = "mizzen-sidecar"

# The operators find the training container by name.
_OPERATOR_CONTAINERS: dict[RunKind, dict[str, str]] = {
    RunKind.TFJOB: {"*": "tensorflow"},
    RunKind.PYTORCHJOB: {"*": "pytorch"},
    RunKind.MPIJOB: {"*": "mpi"},
    RunKind.RAYCLUSTER: {"head": "ray-head", "*": "ray-worker"},
    RunKind.DASKCLUSTER: {"scheduler": "scheduler", "job": "job", "*": "worker"},
}


def main_container_name(kind: RunKind, role: str) -> str:
    """The name of the container that runs the user's code in a pod of ``role``."""
    names = _OPERATOR_CONTAINERS.get(kind)
    if names is None:
        return MAIN_CONTAINER
    return names.get(role, names["*"])


def _is_extended(resource: str) -> bool:
    return "/" in resource and not resource.startswith(("kubernetes.io/", "requests.", "hugepages-"))


def resources_dict(resources: Resources, where: str) -> dict[str, Any]:
    """Requests/limits; extended resources (nvidia.com/gpu...) must be limits (requests == limits)."""
    requests = {k: str(v) for k, v in resources.requests.items()}
    limits = {k: str(v) for k, v in resources.limits.items()}
    for resource, quantity in list(requests.items()):
        if not _is_extended(resource):
            continue
        if resource not in limits:
            limits[resource] = quantity
        elif limits[resource] != quantity:
            raise ExecutorError(
                f"{where}: {resource} is requested as {quantity} but limited to {limits[resource]}; "
                f"Kubernetes needs the request of an extended resource to equal its limit"
            )
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def _check_unique_mounts(name: str, mounts: list[dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for mount in mounts:
        path = mount["mountPath"].rstrip("/") or "/"
        if path in seen:
            raise ExecutorError(
                f"container '{name}' mounts two volumes at {mount['mountPath']} "
                f"('{seen[path]}' and '{mount['name']}'); give one of them another mount path"
            )
        seen[path] = mount["name"]


def render_container(
    container: ContainerPlan,
    name: str,
    access: Access,
    base_env: list[dict[str, Any]] | None = None,
    where: str = "",
) -> dict[str, Any]:
    """The container dict: the fields Mizzen manages, then the Plan's ``extra`` Kubernetes fields."""
    where = where or f"container '{name}'"
    out: dict[str, Any] = {"name": name}
    if container.image:
        out["image"] = container.image
    if container.image_pull_policy:
        out["imagePullPolicy"] = container.image_pull_policy
    if container.command:
        out["command"] = list(container.command)
    if container.args:
        out["args"] = list(container.args)
    if container.working_dir:
        out["workingDir"] = container.working_dir
    # Connection and user values first, Mizzen's identity last: a run cannot pose as another.
    env = merge_env(access.env, [env_var(v) for v in container.env], base_env or [])
    if env:
        out["env"] = env
    env_from = access.env_from + list(container.env_from)
    if env_from:
        out["envFrom"] = env_from
    resources = resources_dict(container.resources, where)
    if resources:
        out["resources"] = resources
    if container.ports:
        out["ports"] = [_port(p.container_port, p.name, p.protocol) for p in container.ports]
    mounts = access.mounts + [
        {
            "name": m.name,
            "mountPath": m.mount_path,
            **({"subPath": m.sub_path} if m.sub_path else {}),
            **({"readOnly": True} if m.read_only else {}),
        }
        for m in container.volume_mounts
    ]
    _check_unique_mounts(name, mounts)
    if mounts:
        out["volumeMounts"] = mounts
    for key, value in container.extra.items():
        out.setdefault(key, value)
    return out


def _port(number: int, name: str | None, protocol: str) -> dict[str, Any]:
    port: dict[str, Any] = {"containerPort": number, "protocol": protocol}
    if name:
        port["name"] = port_name(name)
    return port


def add_ports(container: dict[str, Any], ports: dict[int, str]) -> None:
    """Declare ``ports`` (number -> name) on a container unless it already declares them."""
    declared = {p["containerPort"] for p in container.get("ports", [])}
    used_names = {p.get("name") for p in container.get("ports", [])}
    for number, name in ports.items():
        if number in declared:
            continue
        entry: dict[str, Any] = {"containerPort": number, "protocol": "TCP"}
        if name not in used_names:
            entry["name"] = name
        container.setdefault("ports", []).append(entry)
