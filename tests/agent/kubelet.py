"""A kubelet for Mizzen's own init containers: runs the ``mizzen init ...`` containers of a pod the
double holds as real subprocesses, with the env the pod would give them (values, Secret keys, whole
Secrets, the downward API), and the pod's absolute paths moved under a test folder.

It proves the contract between what the agent renders and what ``mizzen init`` does, end to end.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.agent.cluster import MIZZEN, NS

from k8s_double import K8sDouble

POD_ROOT = "/mizzen/"


def _secret(double: K8sDouble, name: str) -> dict[str, str]:
    found = double.get("v1", "Secret", name, NS)
    assert found is not None, f"the pod needs Secret {name}, which does not exist"
    return {key: base64.b64decode(value).decode() for key, value in (found.get("data") or {}).items()}


def _moved(text: str, root: Path) -> str:
    return text.replace(POD_ROOT, f"{root}{POD_ROOT}")


def container_env(
    double: K8sDouble, pod: dict[str, Any], container: dict[str, Any], root: Path
) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        if "secretRef" in source:
            env.update(_secret(double, source["secretRef"]["name"]))
    downward = {
        "metadata.name": pod["metadata"]["name"],
        "metadata.namespace": pod["metadata"]["namespace"],
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "status.podIP": (pod.get("status") or {}).get("podIP", ""),
    }
    for entry in container.get("env") or []:
        if "value" in entry:
            env[entry["name"]] = _moved(entry["value"], root)
            continue
        source = entry["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[entry["name"]] = _secret(double, ref["name"])[ref["key"]]
        elif "fieldRef" in source:
            env[entry["name"]] = downward[source["fieldRef"]["fieldPath"]]
    return env


def run_mizzen_init_containers(double: K8sDouble, pod_name: str, root: Path) -> dict[str, str]:
    """Run the pod's ``mizzen init`` containers in order; their output by name (asserts success)."""
    pod = double.get("v1", "Pod", pod_name, NS)
    assert pod is not None
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MIZZEN_", "AWS_"))}
    outputs: dict[str, str] = {}
    for container in pod["spec"].get("initContainers") or []:
        if container["command"][:2] != ["mizzen", "init"]:
            continue
        argv = [MIZZEN, *container["command"][1:], *(_moved(a, root) for a in container.get("args") or [])]
        env = {**base, **container_env(double, pod, container, root)}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"init container {container['name']} failed: {done.stderr}"
        outputs[container["name"]] = done.stdout
    return outputs


def run_main_container(double: K8sDouble, pod_name: str, root: Path) -> subprocess.CompletedProcess[str]:
    """Run the pod's main container (its first) as a process of this machine: its command and args,
    with ``python`` as this interpreter (where Mizzen is installed, as in the image), the env the pod
    gives it, in a working folder under ``root``. The caller asserts on the result."""
    pod = double.get("v1", "Pod", pod_name, NS)
    assert pod is not None
    container = pod["spec"]["containers"][0]
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    argv = [_moved(word, root) for word in words]
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MIZZEN_", "AWS_"))}
    env = {**base, **container_env(double, pod, container, root)}
    workdir = root / pod_name
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=120, check=False
    )
