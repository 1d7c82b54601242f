"""Server-side defaulting of built-in kinds (the fields a real API server fills in on create)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]

_service_ips = itertools.count(10)


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    if "image" in container:
        container.setdefault("imagePullPolicy", _image_pull_policy(container["image"]))
    resources = container.setdefault("resources", {})
    if resources.get("limits") and not resources.get("requests"):
        resources["requests"] = dict(resources["limits"])
    elif resources.get("limits"):
        for name, value in resources["limits"].items():
            resources["requests"].setdefault(name, value)
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if field_ref is not None:
            field_ref.setdefault("apiVersion", "v1")


def _volume(volume: Obj) -> None:
    for source in ("secret", "configMap"):
        if source in volume:
            volume[source].setdefault("defaultMode", 420)
    if "hostPath" in volume:
        volume["hostPath"].setdefault("type", "")
    if "downwardAPI" in volume:
        volume["downwardAPI"].setdefault("defaultMode", 420)
        for item in volume["downwardAPI"].get("items") or []:
            if "fieldRef" in item:
                item["fieldRef"].setdefault("apiVersion", "v1")
    if "projected" in volume:
        volume["projected"].setdefault("defaultMode", 420)


def pod_spec(spec: Obj, restart_policy: str = "Always") -> None:
    spec.setdefault("restartPolicy", restart_policy)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for container in itertools.chain(spec.get("initContainers") or [], spec.get("containers") or []):
        _container(container)
    for volume in spec.get("volumes") or []:
        _volume(volume)


def _template(obj: Obj, restart_policy: str = "Always") -> None:
    template = obj.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}), restart_policy)


def pod(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    # the DefaultTolerationSeconds admission plugin
    tolerations = spec.setdefault("tolerations", [])
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == taint for t in tolerations):
            tolerations.append(
                {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", qos_class(spec))


def qos_class(spec: Obj) -> str:
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    requests = [(c.get("resources") or {}).get("requests") or {} for c in containers]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    guaranteed = all(
        lim.get(r) is not None and str(lim.get(r)) == str(req.get(r, lim.get(r)))
        for req, lim in zip(requests, limits, strict=True)
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def job(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    uid = obj["metadata"]["uid"]
    name = obj["metadata"]["name"]
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(obj, restart_policy="")
    if not spec.get("manualSelector"):
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        labels = spec["template"]["metadata"].setdefault("labels", {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )
    if spec["template"]["spec"].get("restartPolicy") == "":
        del spec["template"]["spec"]["restartPolicy"]


def deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {}).setdefault("maxSurge", "25%")
        strategy["rollingUpdate"].setdefault("maxUnavailable", "25%")
    _template(obj)


def replica_set(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec.get("clusterIP") != "None":
        index = next(_service_ips)
        spec.setdefault("clusterIP", f"10.96.{index // 250}.{index % 250 + 1}")
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def namespace(obj: Obj) -> None:
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def pvc(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def cron_job(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)


DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("v1", "Pod"): pod,
    ("v1", "Service"): service,
    ("v1", "Namespace"): namespace,
    ("v1", "Secret"): secret,
    ("v1", "PersistentVolumeClaim"): pvc,
    ("batch/v1", "Job"): job,
    ("batch/v1", "CronJob"): cron_job,
    ("apps/v1", "Deployment"): deployment,
    ("apps/v1", "ReplicaSet"): replica_set,
    ("apps/v1", "StatefulSet"): replica_set,
}


def apply_defaults(obj: Obj) -> None:
    defaulter = DEFAULTERS.get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if defaulter is not None:
        defaulter(obj)
