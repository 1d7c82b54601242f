"""apps/v1 Deployment and ReplicaSet controllers: Deployment -> ReplicaSet <name>-<hash> -> pods."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..api import copy_obj, now
from ..resources import ResourceType
from ..store import Obj
from .base import ControllerContext, is_active, is_ready, set_condition

_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def pod_template_hash(template: Obj) -> str:
    digest = int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:12], 16)
    out = ""
    for _ in range(10):
        digest, rem = divmod(digest, len(_HASH_ALPHABET))
        out += _HASH_ALPHABET[rem]
    return out


def _deploy_condition(kind: str, status: bool, reason: str, message: str, stamp: str) -> Obj:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
    }


class ReplicaSetController:
    group = "apps"
    kinds: tuple[str, ...] = ("ReplicaSet",)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        rs = self.ctx.api.try_get(rtype, namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        pods = self.ctx.owned(self.ctx.pod_type, rs)
        active = [p for p in pods if is_active(p)]
        wanted = rs["spec"].get("replicas", 1)
        for _ in range(wanted - len(active)):
            pod = self.ctx.pod_from_template(rs["spec"]["template"], labels={})
            pod["metadata"]["generateName"] = f"{name}-"
            created = self.ctx.create_owned(self.ctx.pod_type, rs, pod, "replicaset-controller")
            if created is not None:
                active.append(created)
        for pod in active[wanted:]:
            self.ctx.deleter.delete_quietly(self.ctx.pod_type, pod)
        active = active[:wanted]
        ready = sum(1 for p in active if is_ready(p))
        status: dict[str, Any] = {
            "replicas": len(active),
            "fullyLabeledReplicas": len(active),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        self.ctx.update_status(rtype, rs, status)


class DeploymentController:
    group = "apps"
    kinds: tuple[str, ...] = ("Deployment",)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.rs_type = ctx.api.rtype("apps/v1", "ReplicaSet")

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        api = self.ctx.api
        deploy = api.try_get(rtype, namespace, name)
        if deploy is None or deploy["metadata"].get("deletionTimestamp"):
            return
        spec = deploy["spec"]
        template_hash = pod_template_hash(spec["template"])
        rs_name = f"{name}-{template_hash}"
        replica_sets = self.ctx.owned(self.rs_type, deploy)
        current = next((rs for rs in replica_sets if rs["metadata"]["name"] == rs_name), None)
        stamp = now()
        status: dict[str, Any] = dict(deploy.get("status") or {})
        conditions = list(status.get("conditions") or [])
        if current is None:
            template = copy_obj(spec["template"])
            template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = template_hash
            selector = copy_obj(spec["selector"])
            selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
            rs = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "labels": {
                        **(spec["template"].get("metadata") or {}).get("labels", {}),
                        "pod-template-hash": template_hash,
                    },
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
                        "deployment.kubernetes.io/max-replicas": str(spec.get("replicas", 1)),
                        "deployment.kubernetes.io/revision": str(len(replica_sets) + 1),
                    },
                },
                "spec": {"replicas": spec.get("replicas", 1), "selector": selector, "template": template},
            }
            current = self.ctx.create_owned(self.rs_type, deploy, rs, "deployment-controller")
            if current is None:
                return
            self.ctx.events.record(
                deploy,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {rs_name} from 0 to {spec.get('replicas', 1)}",
                "deployment-controller",
            )
            conditions = set_condition(
                conditions,
                _deploy_condition(
                    "Progressing", True, "NewReplicaSetCreated", f'Created new replica set "{rs_name}"', stamp
                ),
            )
        elif current["spec"].get("replicas") != spec.get("replicas", 1):
            scaled = copy_obj(current)
            scaled["spec"]["replicas"] = spec.get("replicas", 1)
            current = api.write(self.rs_type, scaled)
        for old in replica_sets:
            if old["metadata"]["name"] != rs_name and old["spec"].get("replicas", 0) != 0:
                scaled = copy_obj(old)
                scaled["spec"]["replicas"] = 0
                api.write(self.rs_type, scaled)
        pods = [
            p
            for p in self.ctx.api.list(self.ctx.pod_type, namespace)
            if is_active(p)
            and any(
                r.get("uid") in {rs["metadata"]["uid"] for rs in self.ctx.owned(self.rs_type, deploy)}
                for r in p["metadata"].get("ownerReferences") or []
            )
        ]
        ready = sum(1 for p in pods if is_ready(p))
        wanted = spec.get("replicas", 1)
        available_ok = ready >= wanted - _max_unavailable(spec, wanted)
        conditions = set_condition(
            conditions,
            _deploy_condition(
                "Available",
                available_ok,
                "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available_ok
                else "Deployment does not have minimum availability.",
                stamp,
            ),
        )
        if ready >= wanted:
            conditions = set_condition(
                conditions,
                _deploy_condition(
                    "Progressing",
                    True,
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                    stamp,
                ),
            )
        # conditions are listed Available first, as the deployment controller writes them
        conditions.sort(key=lambda c: c["type"] != "Available")
        status.update(
            {
                "observedGeneration": deploy["metadata"].get("generation", 1),
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "conditions": conditions,
            }
        )
        for field, value in (
            ("readyReplicas", ready),
            ("availableReplicas", ready),
            ("unavailableReplicas", max(0, wanted - ready)),
        ):
            if value:
                status[field] = value
            else:
                status.pop(field, None)
        self.ctx.update_status(rtype, deploy, status)


def _max_unavailable(spec: Obj, replicas: int) -> int:
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)
