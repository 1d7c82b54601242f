"""The batch/v1 Job controller: pods, retries up to backoffLimit, podFailurePolicy, conditions."""

from __future__ import annotations

from typing import Any

from ..api import now
from ..resources import ResourceType
from ..store import Change, Obj
from .base import ControllerContext, is_active, is_ready, phase, set_condition

COMPONENT = "job-controller"
_INDEX = "batch.kubernetes.io/job-completion-index"


def _job_condition(kind: str, reason: str, message: str, stamp: str) -> Obj:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
    }


def _exit_codes(pod: Obj) -> list[tuple[str, int]]:
    codes = []
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated is not None:
            codes.append((status["name"], int(terminated.get("exitCode", 0))))
    return codes


def _rule_matches(rule: Obj, pod: Obj) -> str | None:
    """The podFailurePolicy rule's description if it matches the failed pod."""
    on_codes = rule.get("onExitCodes")
    if on_codes:
        wanted = set(on_codes.get("values") or [])
        for container, code in _exit_codes(pod):
            if on_codes.get("containerName") not in (None, container) or code == 0:
                continue
            if (on_codes.get("operator") == "In") == (code in wanted):
                where = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
                return f"Container {container} for pod {where} failed with exit code {code}"
    for pattern in rule.get("onPodConditions") or []:
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == pattern.get("type") and cond.get("status") == pattern.get(
                "status", "True"
            ):
                where = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
                return f"Pod {where} has condition {cond['type']}"
    return None


class JobController:
    group = "batch"
    kinds: tuple[str, ...] = ("Job",)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        # uids of finished pods already counted, per job uid (what the job-tracking finalizer achieves)
        self._counted: dict[str, dict[str, set[str]]] = {}
        # job uid -> pod uid -> the pod's last state, for pods that finished or vanished
        self._finished: dict[str, dict[str, Obj]] = {}

    def observe(self, change: Change) -> None:
        """Remember finished (or vanished) pods as they happen, so a pod removed before the next
        reconcile still counts, as the job-tracking finalizer guarantees in a real cluster."""
        if change.key != ("", "pods"):
            return
        owner = next(
            (
                r
                for r in change.obj["metadata"].get("ownerReferences") or []
                if r.get("kind") == "Job" and r.get("controller")
            ),
            None,
        )
        if owner is None:
            return
        seen = self._finished.setdefault(owner["uid"], {})
        if phase(change.obj) in ("Succeeded", "Failed"):
            seen[change.obj["metadata"]["uid"]] = change.obj
        elif change.type == "DELETED" and change.obj["metadata"]["uid"] not in seen:
            seen[change.obj["metadata"]["uid"]] = {
                **change.obj,
                "status": {**(change.obj.get("status") or {}), "phase": "Failed"},
            }

    def reconcile(self, rtype: ResourceType, namespace: str, name: str) -> None:
        api = self.ctx.api
        job = api.try_get(rtype, namespace, name)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        spec = job["spec"]
        status: dict[str, Any] = dict(job.get("status") or {})
        pods = self.ctx.owned(self.ctx.pod_type, job)
        uid = job["metadata"]["uid"]
        counted = self._counted.setdefault(uid, {"succeeded": set(), "failed": set(), "ignored": set()})
        fail_reason: tuple[str, str] | None = None
        current = {p["metadata"]["uid"] for p in pods}
        gone = [p for pod_uid, p in self._finished.get(uid, {}).items() if pod_uid not in current]
        for pod in [*pods, *gone]:
            uid = pod["metadata"]["uid"]
            if phase(pod) == "Succeeded":
                counted["succeeded"].add(uid)
            elif phase(pod) == "Failed" and uid not in counted["failed"] and uid not in counted["ignored"]:
                action, why = self._failure_action(spec, pod)
                if action == "Ignore":
                    counted["ignored"].add(uid)
                    continue
                counted["failed"].add(uid)
                if action == "FailJob" and fail_reason is None:
                    fail_reason = ("PodFailurePolicy", why)
        active = [p for p in pods if is_active(p)]
        finished = any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        stamp = now()
        succeeded, failed = len(counted["succeeded"]), len(counted["failed"])
        completions = spec.get("completions")
        if not finished and not spec.get("suspend"):
            status.setdefault("startTime", stamp)
            if fail_reason is None and failed > spec.get("backoffLimit", 6):
                fail_reason = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
            if fail_reason is not None:
                self._finish(job, status, "Failed", "FailureTarget", *fail_reason, stamp)
                for pod in active:
                    self.ctx.deleter.delete_quietly(self.ctx.pod_type, pod)
                active = []
                finished = True
            elif (completions is not None and succeeded >= completions) or (
                completions is None and succeeded > 0 and not active
            ):
                self._finish(
                    job,
                    status,
                    "Complete",
                    "SuccessCriteriaMet",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                    stamp,
                )
                status["completionTime"] = stamp
                finished = True
            else:
                wanted = spec.get("parallelism", 1)
                if completions is not None:
                    wanted = min(wanted, completions - succeeded)
                for index in self._missing_indexes(job, pods, active, wanted, counted):
                    created = self._create_pod(job, index)
                    if created is not None:
                        active.append(created)
        status.update(
            {
                "active": len(active),
                "ready": sum(1 for p in active if is_ready(p)),
                "terminating": sum(1 for p in pods if p["metadata"].get("deletionTimestamp")),
                "uncountedTerminatedPods": {},
            }
        )
        for field, value in (("succeeded", succeeded), ("failed", failed)):
            if value:
                status[field] = value
        if not status["active"]:
            del status["active"]
        self.ctx.update_status(rtype, job, status)

    def _failure_action(self, spec: Obj, pod: Obj) -> tuple[str, str]:
        for index, rule in enumerate((spec.get("podFailurePolicy") or {}).get("rules") or []):
            why = _rule_matches(rule, pod)
            if why is not None:
                action = rule["action"]
                return action, f"{why} matching {action} rule at index {index}"
        return "Count", ""

    def _finish(
        self, job: Obj, status: Obj, final: str, target: str, reason: str, message: str, stamp: str
    ) -> None:
        conditions = list(status.get("conditions") or [])
        conditions = set_condition(conditions, _job_condition(target, reason, message, stamp))
        conditions = set_condition(conditions, _job_condition(final, reason, message, stamp))
        status["conditions"] = conditions
        event_reason = "Completed" if final == "Complete" else reason
        self.ctx.events.record(
            job,
            "Normal" if final == "Complete" else "Warning",
            event_reason,
            "Job completed" if final == "Complete" else message,
            COMPONENT,
        )

    def _missing_indexes(
        self, job: Obj, pods: list[Obj], active: list[Obj], wanted: int, counted: dict[str, set[str]]
    ) -> list[int | None]:
        missing = max(0, wanted - len(active))
        if job["spec"].get("completionMode") != "Indexed":
            return [None] * missing
        taken = set()
        for pod in pods:
            index = (pod["metadata"].get("annotations") or {}).get("batch.kubernetes.io/job-completion-index")
            if index is not None and (is_active(pod) or pod["metadata"]["uid"] in counted["succeeded"]):
                taken.add(int(index))
        free = [i for i in range(job["spec"]["completions"]) if i not in taken]
        return list(free[:missing])

    def _create_pod(self, job: Obj, index: int | None) -> Obj | None:
        name = job["metadata"]["name"]
        labels: dict[str, str] = {}
        annotations: dict[str, str] = {}
        pod = self.ctx.pod_from_template(job["spec"]["template"], labels=labels)
        if index is not None:
            labels = {"batch.kubernetes.io/job-completion-index": str(index)}
            annotations = {"batch.kubernetes.io/job-completion-index": str(index)}
            pod = self.ctx.pod_from_template(job["spec"]["template"], labels=labels, annotations=annotations)
            pod["spec"]["hostname"] = f"{name}-{index}"
            for container in pod["spec"]["containers"]:
                env = container.setdefault("env", [])
                env.append(
                    {
                        "name": "JOB_COMPLETION_INDEX",
                        "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{_INDEX}']"}},
                    }
                )
            pod["metadata"]["generateName"] = f"{name}-{index}-"
        else:
            pod["metadata"]["generateName"] = f"{name}-"
        return self.ctx.create_owned(self.ctx.pod_type, job, pod, COMPONENT)
