"""Mizzen's own deployment: both overlays render with the real kubectl, every object validates, the
agent's RBAC covers exactly what the renderer creates, and references between objects resolve."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import k8s_schema
from mizzen.render.k8s import render_plan
from render import k8s_plans  # the renderer's hand-built Plans (tests/render)

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = REPO / "deploy" / "kustomize" / "overlays"
OVERLAY_NAMES = sorted(p.name for p in OVERLAYS.iterdir() if p.is_dir())
AGENT_VERBS = {"create", "get", "list", "watch", "delete", "patch"}


@functools.cache
def kustomize(overlay: str) -> str:
    """The overlay as ``kubectl kustomize`` renders it (once per overlay: tests parse their own copy)."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAYS / overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def objects(overlay: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(kustomize(overlay)) if doc]


def find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].startswith(name)]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def container(objs: list[dict[str, Any]], deployment: str) -> dict[str, Any]:
    return find(objs, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]


def env_values(container: dict[str, Any], objs: list[dict[str, Any]]) -> dict[str, Any]:
    """The container's environment: its env entries and the ConfigMaps it imports whole."""
    values: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            values.update(find(objs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for entry in container.get("env", []):
        values[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return values


def test_there_are_the_two_documented_overlays() -> None:
    assert {"minimal", "with-postgres"} <= set(OVERLAY_NAMES)


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_overlay_passes_the_kubernetes_validate_cli_in_strict_mode(overlay: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "-"],
        input=kustomize(overlay),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARN" not in result.stdout  # every kind had a schema
    assert result.stdout.count("passed for resource") == len(objects(overlay))


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_object_passes_the_schemas_and_api_server_rules(overlay: str) -> None:
    objs = objects(overlay)
    k8s_schema.assert_valid(objs)
    assert all(o["metadata"].get("namespace") == "mizzen" for o in objs if o["kind"] not in _CLUSTER_SCOPED)


_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def _references(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of every Secret, ConfigMap, PVC and ServiceAccount a workload refers to."""
    template = (obj.get("spec") or {}).get("template")
    if not template:
        return
    spec = template["spec"]
    if spec.get("serviceAccountName"):
        yield "ServiceAccount", spec["serviceAccountName"]
    for volume in spec.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        for source in c.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source:
                    yield kind, source[key]["name"]
        for entry in c.get("env", []):
            ref = entry.get("valueFrom") or {}
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                if key in ref:
                    yield kind, ref[key]["name"]


def made_by_jobs(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Objects a Job of the overlay creates when installed: the token Secret."""
    made = set()
    for job in (o for o in objs if o["kind"] == "Job"):
        args = job["spec"]["template"]["spec"]["containers"][0].get("args", [])
        if args[:2] == ["agent", "token-secret"]:
            name = args[args.index("--name") + 1] if "--name" in args else "mizzen-token"
            made.add(("Secret", name))
    return made


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_every_reference_resolves_to_an_object_of_the_overlay(overlay: str) -> None:
    objs = objects(overlay)
    present = {(o["kind"], o["metadata"]["name"]) for o in objs} | made_by_jobs(objs)
    claims = {
        ("PersistentVolumeClaim", f"{t['metadata']['name']}")
        for o in objs
        for t in (o.get("spec") or {}).get("volumeClaimTemplates", [])
    }
    for obj in objs:
        for ref in _references(obj):
            assert ref in present | claims, f"{obj['kind']} {obj['metadata']['name']} refers to missing {ref}"
        if obj["kind"] == "Service":
            pods = [
                o["spec"]["template"]["metadata"]["labels"]
                for o in objs
                if o["kind"] in ("Deployment", "StatefulSet")
            ]
            selector = obj["spec"]["selector"]
            assert any(all(labels.get(k) == v for k, v in selector.items()) for labels in pods), obj


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_server_and_agent_run_the_mizzen_image_with_mizzen_settings(overlay: str) -> None:
    objs = objects(overlay)
    server, agent = container(objs, "mizzen-server"), container(objs, "mizzen-agent")
    assert server["image"] == agent["image"] == "mizzen/mizzen:0.1.0"
    assert server["args"][:1] == ["server"] and agent["args"][:1] == ["agent"]
    assert agent["args"][1:] == ["--namespace", "$(MIZZEN_NAMESPACE)", "--in-cluster"]
    agent_env = env_values(agent, objs)
    assert agent_env["MIZZEN_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert agent_env["MIZZEN_HOST"] == "http://mizzen-server:8000"
    assert agent_env["MIZZEN_INIT_IMAGE"] == server["image"]
    assert "MIZZEN_DATABASE_URL" not in agent_env  # the agent talks to the API, never the database
    assert all(name.startswith("MIZZEN_") for name in env_values(server, objs))
    service = find(objs, "Service", "mizzen-server")
    assert service["spec"]["ports"][0]["port"] == 8000


def test_minimal_keeps_sqlite_on_its_volume_with_a_single_server() -> None:
    objs = objects("minimal")
    deployment = find(objs, "Deployment", "mizzen-server")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    server = container(objs, "mizzen-server")
    url = env_values(server, objs)["MIZZEN_DATABASE_URL"]
    assert url.startswith("sqlite:////")
    database_dir = str(Path(url.removeprefix("sqlite:///")).parent)
    mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    claim = volumes[mounts[database_dir]]["persistentVolumeClaim"]["claimName"]
    assert find(objs, "PersistentVolumeClaim", claim)
    assert not [o for o in objs if o["kind"] == "StatefulSet"]


def test_with_postgres_points_the_server_at_its_statefulset() -> None:
    objs = objects("with-postgres")
    statefulset = find(objs, "StatefulSet", "mizzen-postgres")
    service = find(objs, "Service", "mizzen-postgres")
    secret = find(objs, "Secret", "mizzen-postgres")
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= set(secret["data"])
    env = env_values(container(objs, "mizzen-server"), objs)
    assert env["MIZZEN_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert f"@{service['metadata']['name']}:5432/" in env["MIZZEN_DATABASE_URL"]
    password = env["MIZZEN_POSTGRES_PASSWORD"]["secretKeyRef"]
    assert password == {"name": secret["metadata"]["name"], "key": "POSTGRES_PASSWORD"}


def _rules(objs: list[dict[str, Any]], kind: str, name: str) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in find(objs, kind, name)["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_agent_role_grants_only_the_verbs_the_agent_uses() -> None:
    objs = objects("minimal")
    granted = _rules(objs, "Role", "mizzen-agent")
    assert granted.pop(("", "pods")) == {"get", "list", "watch", "delete"}
    assert granted.pop(("", "pods/log")) == {"get"}
    assert granted.pop(("", "events")) == {"list", "watch"}
    assert all(verbs == AGENT_VERBS for verbs in granted.values()), granted
    assert not any("*" in group or "*" in resource for group, resource in granted)
    assert _rules(objs, "ClusterRole", "mizzen-agent-crds") == {
        ("apiextensions.k8s.io", "customresourcedefinitions"): {"get", "list"}
    }
    for binding_kind, role_kind in (("RoleBinding", "Role"), ("ClusterRoleBinding", "ClusterRole")):
        binding = find(objs, binding_kind, "mizzen-agent")
        assert binding["roleRef"]["kind"] == role_kind
        agent = {"kind": "ServiceAccount", "name": "mizzen-agent", "namespace": "mizzen"}
        assert binding["subjects"] == [agent]


def test_agent_role_covers_every_object_the_renderer_creates() -> None:
    granted = _rules(objects("minimal"), "Role", "mizzen-agent")
    for name, make in k8s_plans.ALL_PLANS.items():
        for obj in render_plan(make(), k8s_plans.context()):
            group = obj["apiVersion"].rpartition("/")[0]
            resource = obj["kind"].lower() + "s"
            assert granted.get((group, resource)) == AGENT_VERBS, f"{name}: {obj['kind']} not granted"


def test_dockerfile_is_a_small_multi_stage_non_root_build_of_the_wheel() -> None:
    text = (REPO / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms == ["FROM python:3.11-slim AS build", "FROM python:3.11-slim"]
    assert 'ENTRYPOINT ["mizzen"]' in lines
    users = [line for line in lines if line.startswith("USER ")]
    assert users and users[-1].split()[1].split(":")[0] not in ("0", "root")
    assert any("pip wheel" in line for line in lines) and "COPY --from=build /dist/ /tmp/dist/" in lines
    for line in lines:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_kubernetes_validate_rejects_a_broken_overlay_output() -> None:
    """The check above is not vacuous: a typo in a rendered object fails it."""
    objs = objects("minimal")
    server = find(objs, "Deployment", "mizzen-server")
    server["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(k8s_schema.InvalidObject, match="imagePullPolcy"):
        k8s_schema.assert_valid(objs)


@pytest.mark.parametrize("overlay", OVERLAY_NAMES)
def test_the_api_needs_a_token_made_at_install_and_pods_stay_off_the_host(overlay: str) -> None:
    objs = objects(overlay)
    assert made_by_jobs(objs) == {("Secret", "mizzen-token")}
    for deployment in ("mizzen-server", "mizzen-agent"):
        token = next(e for e in container(objs, deployment)["env"] if e["name"] == "MIZZEN_TOKEN")
        assert token["valueFrom"]["secretKeyRef"] == {"name": "mizzen-token", "key": "token"}
        assert "optional" not in token["valueFrom"]["secretKeyRef"]  # no token, no server
    server_args = container(objs, "mizzen-server")["args"]
    assert "0.0.0.0" in server_args and "--insecure" not in server_args
    assert _rules(objs, "Role", "mizzen-token") == {("", "secrets"): {"create", "get"}}
    limited = [r for r in find(objs, "Role", "mizzen-token")["rules"] if "get" in r["verbs"]]
    assert [r.get("resourceNames") for r in limited] == [["mizzen-token"]]
    labels = find(objs, "Namespace", "mizzen")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
