"""Environment variables of run containers: MIZZEN_* identity, downward API, connections, user's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mizzen import runtime_env
from mizzen.compiler.plan import EnvVar, RuntimeContext
from mizzen.render.k8s.options import RenderOptions

# Filled by the kubelet from the pod itself (downward API).
POD_NAME = "MIZZEN_POD_NAME"
NODE_NAME = "MIZZEN_NODE_NAME"
NAMESPACE = "MIZZEN_NAMESPACE"
POD_IP = "MIZZEN_POD_IP"

_DOWNWARD = {
    POD_NAME: "metadata.name",
    NAMESPACE: "metadata.namespace",
    NODE_NAME: "spec.nodeName",
    POD_IP: "status.podIP",
}


def env_var(var: EnvVar) -> dict[str, Any]:
    if var.value_from is not None:
        return {"name": var.name, "valueFrom": var.value_from}
    return {"name": var.name, "value": var.value if var.value is not None else ""}


def run_env(context: RuntimeContext, options: RenderOptions) -> list[dict[str, Any]]:
    """What every Mizzen-managed container sees: the MIZZEN_* variables and where it runs."""
    values = runtime_env.runtime_env(context, options.api_host or context.api_host, token=None)
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in values.items()]
    if options.token_secret:
        selector = {"name": options.token_secret, "key": options.token_secret_key}
        env.append({"name": runtime_env.TOKEN, "valueFrom": {"secretKeyRef": selector}})
    env.extend(
        {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}
        for name, path in _DOWNWARD.items()
    )
    return env


def merge_env(*groups: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per name: a later group overrides an earlier one, at the earlier one's position."""
    merged: dict[str, dict[str, Any]] = {}
    for group in groups:
        for entry in group:
            merged[entry["name"]] = entry
    return list(merged.values())
