"""Init steps -> init containers. Mizzen's own steps run ``mizzen init <kind>`` from the init image.

The command line is the contract with ``mizzen init`` (the destination defaults to a folder under
``$MIZZEN_CONTEXT_PATH``).

Every step also takes ``[--path P]`` (its destination) and, when it names one, ``--connection NAME``:

    mizzen init auth
    mizzen init git         --url URL [--revision REV] [--flag F]...
    mizzen init artifacts   [--store URL] [--file F]... [--dir D]... [--workers N]
    mizzen init paths       [--store URL] [--item SRC]... [--item-to SRC DST]...
    mizzen init file        --filename NAME --content TEXT [--chmod MODE]
    mizzen init dockerfile  --dockerfile JSON
    mizzen init tensorboard [--store URL] [--uuid U]... [--use-names] [--path-prefix P] [--plugin P]...
    mizzen init lineage     --ref JSON [--store URL]

``--store`` is where to read from: the connection's bucket or mount path when the step names one,
else the run's artifacts store. Credentials arrive as env/files from the connection's secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mizzen.compiler.plan import ConnectionPlan, InitStep, Resources
from mizzen.errors import ExecutorError
from mizzen.render.k8s.containers import render_container, resources_dict
from mizzen.render.k8s.env import merge_env
from mizzen.render.k8s.names import dns_label
from mizzen.render.k8s.volumes import Access, connection_volume_path, schema_value

# Steps that read from a store (the artifacts store or the step's connection).
STORE_READERS = frozenset({"artifacts", "paths", "tensorboard", "lineage"})


def _repeat(flag: str, values: list[str]) -> list[str]:
    return [part for value in values for part in (flag, value)]


def _git_args(step: InitStep, connection: ConnectionPlan | None) -> list[str]:
    git = step.git
    url = (git.url if git else None) or (schema_value(connection, "url") if connection else None)
    if not url:
        raise ExecutorError(
            f"init step '{step.name}': a git init needs a url, in the step or in its connection"
        )
    revision = (git.revision if git else None) or (
        schema_value(connection, "revision") if connection else None
    )
    flags = list(git.flags) if git and git.flags else None
    if flags is None:
        flags = list((schema_value(connection, "flags") if connection else None) or [])
    args = ["--url", str(url)]
    if revision:
        args += ["--revision", str(revision)]
    return args + _repeat("--flag", [str(f) for f in flags])


def _artifacts_args(step: InitStep) -> list[str]:
    spec = step.artifacts
    if spec is None:
        return []
    args = _repeat("--file", spec.files) + _repeat("--dir", spec.dirs)
    if spec.workers is not None:
        args += ["--workers", str(spec.workers)]
    return args


def _paths_args(step: InitStep) -> list[str]:
    args: list[str] = []
    for item in step.paths:
        if isinstance(item, str):
            args += ["--item", item]
        elif len(item) == 2:
            args += ["--item-to", item[0], item[1]]
        elif len(item) == 1:
            args += ["--item", item[0]]
        else:
            raise ExecutorError(f"init step '{step.name}': a path is a source or a [source, destination]")
    return args


def _file_args(step: InitStep) -> list[str]:
    if step.file is None:
        raise ExecutorError(f"init step '{step.name}': a file init needs its content")
    args = ["--filename", step.file.filename, "--content", step.file.content]
    if step.file.chmod:
        args += ["--chmod", step.file.chmod]
    return args


def _dockerfile_args(step: InitStep) -> list[str]:
    if step.dockerfile is None:
        raise ExecutorError(f"init step '{step.name}': a dockerfile init needs its description")
    spec = step.dockerfile.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    spec["image"] = step.dockerfile.image
    return ["--dockerfile", json.dumps(spec, sort_keys=True, separators=(",", ":"))]


def _tensorboard_args(step: InitStep) -> list[str]:
    board = step.tensorboard
    if board is None:
        return []
    args = _repeat("--uuid", board.uuids)
    if board.use_names:
        args.append("--use-names")
    if board.path_prefix:
        args += ["--path-prefix", board.path_prefix]
    return args + _repeat("--plugin", board.plugins)


def _lineage_args(step: InitStep) -> list[str]:
    if not step.lineage:
        raise ExecutorError(f"init step '{step.name}': a lineage init needs the reference to fetch")
    return ["--ref", json.dumps(step.lineage, sort_keys=True, separators=(",", ":"))]


_KIND_ARGS: dict[str, Callable[[InitStep], list[str]]] = {
    "auth": lambda step: [],
    "artifacts": _artifacts_args,
    "paths": _paths_args,
    "file": _file_args,
    "dockerfile": _dockerfile_args,
    "tensorboard": _tensorboard_args,
    "lineage": _lineage_args,
}


def _store_url(connection: ConnectionPlan | None, default_store: str | None) -> str | None:
    if connection is None:
        return default_store
    bucket = schema_value(connection, "bucket", "url")
    return str(bucket) if bucket else connection_volume_path(connection) or default_store


def init_args(step: InitStep, connection: ConnectionPlan | None, default_store: str | None) -> list[str]:
    """The arguments after ``mizzen init <kind>`` for a Mizzen init step."""
    args = _git_args(step, connection) if step.kind == "git" else _KIND_ARGS[step.kind](step)
    if step.kind in STORE_READERS:
        store = _store_url(connection, default_store)
        if store:
            args = ["--store", store, *args]
    if step.path:
        args += ["--path", step.path]
    if step.connection:
        args += ["--connection", step.connection]
    return args


def render_init_container(
    step: InitStep,
    *,
    image: str,
    image_pull_policy: str | None,
    resources: Resources,
    access: Access,
    env: list[dict[str, Any]],
    connection: ConnectionPlan | None,
    default_store: str | None,
) -> dict[str, Any]:
    """One init container; ``access`` already holds the context/artifacts/store/connection mounts."""
    name = dns_label(step.name)
    if step.kind == "container":
        if step.container is None or not step.container.image:
            raise ExecutorError(f"init step '{step.name}': an init container needs an image")
        return render_container(step.container, name, access, env, where=f"init container '{step.name}'")
    container: dict[str, Any] = {"name": name, "image": image, "command": ["mizzen", "init", step.kind]}
    args = init_args(step, connection, default_store)
    if args:
        container["args"] = args
    if image_pull_policy:
        container["imagePullPolicy"] = image_pull_policy
    merged = merge_env(access.env, env)
    if merged:
        container["env"] = merged
    if access.env_from:
        container["envFrom"] = access.env_from
    limits = resources_dict(resources, f"init container '{name}'")
    if limits:
        container["resources"] = limits
    if access.mounts:
        container["volumeMounts"] = access.mounts
    return container
