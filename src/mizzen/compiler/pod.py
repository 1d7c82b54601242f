"""Rendered pod sections (camelCase data, as written) → the Plan's pod pieces.

``command``/``args`` written as one string become argument lists (``shlex`` rules, template blocks
kept whole), except the script after a shell's ``-c``, which stays one argument. A field that is one
whole template (``args: "{{ args }}"``) is rendered first and read back: a list value gives its items,
as the reference does; any other value is one argument. Empty arguments (a false flag, an unset
optional input) are dropped, as the reference does.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Mapping
from typing import Any

from mizzen.compiler.locate import Where
from mizzen.compiler.plan import (
    ArtifactsInit,
    ContainerPlan,
    DockerfileInit,
    EnvironmentPlan,
    EnvVar,
    FileInit,
    GitInit,
    InitKind,
    InitStep,
    Port,
    Resources,
    TensorboardInit,
    Volume,
    VolumeMount,
)
from mizzen.compiler.templating import to_text

# Kinds whose run section is their one pod.
POD_KINDS = frozenset({"job", "service", "notifier", "cleaner", "tuner"})
# The replica roles of each distributed kind, in the order a Plan lists them.
REPLICA_ROLES: dict[str, tuple[str, ...]] = {
    "tfjob": ("chief", "ps", "worker", "evaluator"),
    "pytorchjob": ("master", "worker"),
    "mpijob": ("launcher", "worker"),
    "daskcluster": ("scheduler", "worker"),
}
# The replica that a distributed run's top-level shortcuts (container, cmd, env...) patch.
MAIN_ROLE = {kind: roles[0] for kind, roles in REPLICA_ROLES.items()} | {"raycluster": "head"}
_ROLES = frozenset(MAIN_ROLE.values()).union(*REPLICA_ROLES.values())

_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "ksh"})
_TEMPLATE_SPAN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_CONTAINER_FIELDS = frozenset(
    {
        "name",
        "image",
        "imagePullPolicy",
        "command",
        "args",
        "workingDir",
        "env",
        "envFrom",
        "resources",
        "ports",
        "volumeMounts",
    }
)


def split_words(text: str) -> list[str]:
    """``shlex.split`` that keeps ``{{ ... }}`` / ``{% ... %}`` blocks inside one word."""
    spans: list[str] = []

    def protect(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    protected = _TEMPLATE_SPAN.sub(protect, text)
    words = shlex.split(protected, comments=False, posix=True)
    if not spans:
        return words
    return [re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], word) for word in words]


def is_shell_script(command: list[str]) -> bool:
    """``[sh, -c]``, ``[/bin/bash, -ec]``...: the next argument is a script, not words."""
    if len(command) < 2:
        return False
    shell = posixpath.basename(command[0])
    flag = command[-1]
    return shell in _SHELLS and flag.startswith("-") and "c" in flag[1:]


def is_whole_template(value: Any) -> bool:
    """``"{{ args }}"``: one ``{{ ... }}`` block and nothing else, rendered before it is split."""
    return isinstance(value, str) and bool(re.fullmatch(r"\{\{(?:(?!\}\}).)*\}\}", value.strip(), re.DOTALL))


def _listed(text: str) -> list[str] | None:
    """A rendered whole-field template that printed a list (``["--version"]``, ``[]``): its items."""
    if not text.strip().startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    return [to_text(item) for item in value]


def as_argv(value: Any, field: str, where: Where, keep_whole: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if keep_whole:
        return [text]
    try:
        return split_words(text)
    except ValueError as exc:
        raise where.error(f"cannot split {text!r} into arguments: {exc}", field) from None


def _rendered_argv(value: Any) -> list[str]:
    """Rendered ``command``/``args``: a list, or the value of a whole-field template (left a string
    by ``split_container``): the items of a list it printed, else one argument, as written."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    listed = _listed(text)
    return listed if listed is not None else [text]


def split_container(data: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """A container with string ``command``/``args`` turned into lists (before rendering, so that a
    rendered value with spaces stays one argument); a whole-field template stays a string, to be
    read back once rendered (``container``)."""
    out = dict(data)
    command = data.get("command")
    if isinstance(command, str) and not is_whole_template(command):
        out["command"] = as_argv(command, "command", where)
    args = data.get("args")
    if isinstance(args, str) and not is_whole_template(args):
        keep = is_shell_script(out.get("command") or [])
        out["args"] = as_argv(args, "args", where, keep_whole=keep)
    return out


def split_pod_commands(pod: Mapping[str, Any], where: Where) -> dict[str, Any]:
    out = dict(pod)
    if isinstance(pod.get("container"), Mapping):
        out["container"] = split_container(pod["container"], where.at("container"))
    if isinstance(pod.get("sidecars"), list):
        out["sidecars"] = [split_container(c, where.at("sidecars", i)) for i, c in enumerate(pod["sidecars"])]
    if isinstance(pod.get("init"), list):
        out["init"] = [
            {**step, "container": split_container(step["container"], where.at("init", i, "container"))}
            if isinstance(step.get("container"), Mapping)
            else step
            for i, step in enumerate(pod["init"])
        ]
    return out


def split_run_commands(run: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """Every container of a run (main, sidecars, init, each replica) with list command/args."""
    out = split_pod_commands(run, where)
    for role in _ROLES:
        if isinstance(run.get(role), Mapping):
            out[role] = split_pod_commands(run[role], where.at(role))
    if isinstance(run.get("workers"), Mapping):
        out["workers"] = {g: split_pod_commands(w, where.at("workers", g)) for g, w in run["workers"].items()}
    return out


def _drop_empty(words: list[str]) -> list[str]:
    return [w for w in words if w != ""]


def quantity(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def resources(data: Mapping[str, Any] | None) -> Resources:
    if not data:
        return Resources()
    return Resources(
        requests={k: quantity(v) for k, v in (data.get("requests") or {}).items()},
        limits={k: quantity(v) for k, v in (data.get("limits") or {}).items()},
    )


def container(
    data: Mapping[str, Any], default_name: str, where: Where, extra_env: list[EnvVar] | None = None
) -> ContainerPlan:
    """One container; ``where`` points at it (``run.container``, ``run.sidecars[0]``...)."""
    command = _rendered_argv(data.get("command"))
    args = _rendered_argv(data.get("args"))
    env = [
        EnvVar(
            name=str(e["name"]),
            value=None if e.get("value") is None else str(e["value"]),
            value_from=e.get("valueFrom"),
        )
        for e in data.get("env") or []
    ]
    ports = [
        Port(
            container_port=_int(p["containerPort"], where, "ports"),
            name=p.get("name"),
            protocol=p.get("protocol") or "TCP",
        )
        for p in data.get("ports") or []
    ]
    mounts = [
        VolumeMount(
            name=m["name"],
            mount_path=m["mountPath"],
            sub_path=m.get("subPath"),
            read_only=bool(m.get("readOnly")),
        )
        for m in data.get("volumeMounts") or []
    ]
    return ContainerPlan(
        name=data.get("name") or default_name,
        image=data.get("image"),
        image_pull_policy=data.get("imagePullPolicy"),
        command=_drop_empty(command),
        args=_drop_empty(args),
        working_dir=data.get("workingDir"),
        env=[*env, *(extra_env or [])],
        env_from=list(data.get("envFrom") or []),
        resources=resources(data.get("resources")),
        ports=ports,
        volume_mounts=mounts,
        extra={k: v for k, v in data.items() if k not in _CONTAINER_FIELDS},
    )


def _int(value: Any, where: Where, field: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise where.error(f"expected an integer, got {value!r}", field) from None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _repo_name(url: str | None, fallback: str) -> str:
    if not url:
        return fallback
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name[:-4] if name.endswith(".git") else name or fallback


def _destination(path: str | None, default: str, context_path: str) -> str:
    if path:
        return path if path.startswith("/") else posixpath.join(context_path, path)
    return posixpath.join(context_path, default) if default else context_path


_STEP_KINDS = (
    "artifacts", "paths", "file", "dockerfile", "tensorboard",
    "lineageRef", "modelRef", "artifactRef", "container",
)  # fmt: skip


def init_step(data: Mapping[str, Any], index: int, where: Where, context_path: str) -> InitStep:
    """One ``init`` entry; ``where`` points at it."""
    connection = data.get("connection")
    path = data.get("path")
    name = f"init-{index}"
    kind, default_dir, payload = _init_payload(data, connection, name, where)
    if kind != "container":  # a user's init container keeps its path as written
        path = _destination(path, default_dir, context_path)
    return InitStep(kind=kind, name=name, connection=connection, path=path, **payload)


def _init_payload(
    data: Mapping[str, Any], connection: str | None, name: str, where: Where
) -> tuple[InitKind, str, dict[str, Any]]:
    """(kind, default folder below the context path, the InitStep fields of that kind)."""
    bare_connection = connection and not any(data.get(key) is not None for key in _STEP_KINDS)
    if data.get("git") is not None or bare_connection:  # `- connection: repo` clones a git connection
        git = dict(data.get("git") or {})
        flags = list(git.get("flags") or [])
        clone = GitInit(url=git.get("url"), revision=git.get("revision"), flags=flags)
        return "git", _repo_name(git.get("url"), connection or "repo"), {"git": clone}
    if data.get("artifacts") is not None:
        art = data["artifacts"]
        files, dirs = _as_list(art.get("files")), _as_list(art.get("dirs"))
        if any(isinstance(item, list) for item in [*files, *dirs]):
            # `dirs: [[FROM, TO]]`: a paths step copies each item (file or folder) to its destination
            return "paths", "", {"paths": [*files, *dirs]}
        return (
            "artifacts",
            "",
            {"artifacts": ArtifactsInit(files=files, dirs=dirs, workers=art.get("workers"))},
        )
    if data.get("paths") is not None:
        return "paths", "", {"paths": _as_list(data["paths"])}
    if data.get("file") is not None:
        spec = data["file"]
        chmod = None if spec.get("chmod") is None else str(spec["chmod"])
        file = FileInit(content=spec["content"], filename=spec.get("filename") or "file", chmod=chmod)
        return "file", "", {"file": file}
    if data.get("dockerfile") is not None:
        return "dockerfile", "", {"dockerfile": dockerfile(data["dockerfile"])}
    if data.get("tensorboard") is not None:
        tb = data["tensorboard"]
        tensorboard = TensorboardInit(
            uuids=_as_list(tb.get("uuids")),
            use_names=bool(tb.get("useNames")),
            path_prefix=tb.get("pathPrefix"),
            plugins=list(tb.get("plugins") or []),
        )
        return "tensorboard", "tensorboard", {"tensorboard": tensorboard}
    for key in ("lineageRef", "modelRef", "artifactRef"):
        if data.get(key):
            return "lineage", "", {"lineage": {key: data[key]}}
    if data.get("container") is not None:
        return "container", "", {"container": container(data["container"], name, where.at("container"))}
    raise where.error(
        "an init step needs one of: git, artifacts, paths, file, dockerfile, tensorboard, container, "
        "connection"
    )


def dockerfile(data: Mapping[str, Any]) -> DockerfileInit:
    env = data.get("env") or {}
    if isinstance(env, list):
        env = {str(pair[0]): pair[1] for pair in env if isinstance(pair, list) and len(pair) == 2}
    values: dict[str, Any] = {
        "image": data["image"],
        "env": {str(k): str(v) for k, v in env.items()},
        "path": list(data.get("path") or []),
        "copy": list(data.get("copy") or []),
        "post_run_copy": list(data.get("postRunCopy") or []),
        "run": list(data.get("run") or []),
        "lang_env": data.get("langEnv"),
        "uid": data.get("uid"),
        "gid": data.get("gid"),
        "user": data.get("username"),
        "workdir": data.get("workdir"),
        "workdir_path": data.get("workdirPath"),
        "shell": data.get("shell"),
    }
    if data.get("filename"):
        values["filename"] = data["filename"]
    return DockerfileInit.model_validate(values)


_VOLUME_META = frozenset({"name"})


def volume(data: Mapping[str, Any], where: Where) -> Volume:
    sources = {k: v for k, v in data.items() if k not in _VOLUME_META and v is not None}
    if len(sources) != 1:
        raise where.error(
            f"a volume needs exactly one source (hostPath, persistentVolumeClaim, ...), got {len(sources)}"
        )
    return Volume(name=data["name"], source=sources)


_ENVIRONMENT_FIELDS = {
    "labels": "labels",
    "annotations": "annotations",
    "nodeSelector": "node_selector",
    "affinity": "affinity",
    "tolerations": "tolerations",
    "nodeName": "node_name",
    "serviceAccountName": "service_account_name",
    "hostAliases": "host_aliases",
    "securityContext": "security_context",
    "imagePullSecrets": "image_pull_secrets",
    "hostNetwork": "host_network",
    "hostPID": "host_pid",
    "dnsPolicy": "dns_policy",
    "dnsConfig": "dns_config",
    "schedulerName": "scheduler_name",
    "priorityClassName": "priority_class_name",
    "priority": "priority",
    "restartPolicy": "restart_policy",
}


def environment(data: Mapping[str, Any] | None) -> EnvironmentPlan:
    if not data:
        return EnvironmentPlan()
    values = {
        _ENVIRONMENT_FIELDS[k]: v for k, v in data.items() if k in _ENVIRONMENT_FIELDS and v is not None
    }
    for key in ("labels", "annotations", "node_selector"):
        if key in values:
            values[key] = {str(k): str(v) for k, v in values[key].items()}
    return EnvironmentPlan.model_validate(values)
