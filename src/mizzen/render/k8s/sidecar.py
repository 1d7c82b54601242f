"""Mizzen's sidecar: archives the run's outputs and logs to the artifacts store and flushes the
tracking journal, every ``poll_interval`` seconds and once more when the main container ends.

The command line is the contract with ``mizzen sidecar``:

    mizzen sidecar --run-uuid UUID --artifacts-path PATH --poll-interval SECONDS
                   --main-container NAME [--store URL] [--no-logs] [--no-outputs] [--wait-main]

``--wait-main``: the sidecar is a plain container and must exit by itself once the main container
has terminated (it watches its own pod through the API). A native sidecar (an init container with
``restartPolicy: Always``) is stopped by the kubelet instead.
"""

from __future__ import annotations

from typing import Any

from mizzen.compiler.plan import PluginsPlan, Resources, RuntimeContext
from mizzen.render.k8s.containers import SIDECAR_CONTAINER, resources_dict
from mizzen.render.k8s.env import merge_env
from mizzen.render.k8s.options import RenderOptions
from mizzen.render.k8s.volumes import Access


def wants_sidecar(plugins: PluginsPlan) -> bool:
    return plugins.collect_logs or plugins.collect_artifacts


def _setting(config: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if config.get(key) is not None:
            return config[key]
    return None


def render_sidecar(
    *,
    context: RuntimeContext,
    options: RenderOptions,
    plugins: PluginsPlan,
    main_container: str,
    access: Access,
    env: list[dict[str, Any]],
    native: bool,
) -> dict[str, Any]:
    config = plugins.sidecar or {}
    interval = _setting(config, "syncInterval", "sync_interval", "sleepInterval", "sleep_interval")
    args = [
        "--run-uuid",
        context.uuid,
        "--artifacts-path",
        context.run_artifacts_path,
        "--poll-interval",
        str(int(interval) if interval is not None else options.poll_interval),
        "--main-container",
        main_container,
    ]
    if options.artifacts_store is not None:
        args += ["--store", options.artifacts_store.url]
    if not plugins.collect_logs:
        args.append("--no-logs")
    if not plugins.collect_artifacts:
        args.append("--no-outputs")
    if not native:
        args.append("--wait-main")
    container: dict[str, Any] = {
        "name": SIDECAR_CONTAINER,
        "image": _setting(config, "image") or options.sidecar_image or options.init_image,
        "command": ["mizzen", "sidecar"],
        "args": args,
    }
    pull_policy = _setting(config, "imagePullPolicy", "image_pull_policy") or options.init_image_pull_policy
    if pull_policy:
        container["imagePullPolicy"] = pull_policy
    if native:
        container["restartPolicy"] = "Always"
    merged = merge_env(access.env, env)
    if merged:
        container["env"] = merged
    if access.env_from:
        container["envFrom"] = access.env_from
    custom = _setting(config, "resources")
    resources = Resources.model_validate(custom) if custom else options.sidecar_resources
    limits = resources_dict(resources, "the sidecar")
    if limits:
        container["resources"] = limits
    if access.mounts:
        container["volumeMounts"] = access.mounts
    return container
