"""The runs the executor tracks, kept true to the cluster: bookkeeping from watch events, decisions
(report, retry, fail, stop) in one reconcile thread.

Watch callbacks only record (the newest top-level object, pods by run, failed pods, events as log
lines); ``reconcile(uuid)`` decides from what was recorded and does the slow work (final log reads,
deletes) outside the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mizzen.executors.kubernetes import pods as pod_state
from mizzen.executors.kubernetes import status as run_status
from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter
from mizzen.executors.kubernetes.logs import LogBuffer
from mizzen.executors.kubernetes.monitor import ClusterMonitor
from mizzen.executors.kubernetes.objects import delete_objects
from mizzen.executors.kubernetes.resources import JOB, POD, ResourceKind
from mizzen.executors.kubernetes.runs import TrackedRun, pod_run_label
from mizzen.render.k8s.metadata import RUN_UUID
from mizzen.render.k8s.names import short_uuid_of
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus

log = logging.getLogger(__name__)
S = RunStatus
Obj = dict[str, Any]
EVENTS_CONTAINER = "events"  # pod and object events reach the run's logs as lines of this container
_NOT_YET = object()  # the top-level object is created but the watch has not shown it yet


@dataclass(frozen=True)
class Timeouts:
    image_pull: float = 300.0  # an image that cannot be pulled for this long fails the run
    stop: float = 60.0  # after the grace period, report stopped even if objects still terminate
    log_join: float = 2.0  # wait this long for log followers to reach the end of their streams
    ttl_backstop: int = 3600  # the cluster's own ttl cleanup comes this long after the executor's


def _event_time(event: Obj) -> float:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = event.get(key) or (event.get("series") or {}).get("lastObservedTime")
        if value:
            try:
                return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return time.time()


class Reconciler:
    def __init__(self, adapter: KubeAdapter, namespace: str, buffer: LogBuffer, timeouts: Timeouts) -> None:
        self.adapter = adapter
        self.namespace = namespace
        self.buffer = buffer
        self.timeouts = timeouts
        self.lock = threading.RLock()
        self.runs: dict[str, TrackedRun] = {}
        self._by_short: dict[str, str] = {}  # uuid[:12] -> uuid
        self._by_label: dict[str, str] = {}  # run-uuid label -> uuid
        self._pods: dict[str, dict[str, Obj]] = {}  # uuid[:12] -> pod name -> pod
        self._cleanups: dict[str, TrackedRun] = {}  # ended runs whose objects go at their ttl
        self.monitor: ClusterMonitor  # set by the executor

    # -- registry ----------------------------------------------------------------------------------

    def track(self, run: TrackedRun) -> None:
        with self.lock:
            self.runs[run.uuid] = run
            self._by_short[run.label[:12]] = run.uuid
            self._by_label[run.label] = run.uuid
            for pod in self._pods.get(run.label[:12], {}).values():
                self._note_pod(run, pod)

    def forget(self, uuid: str) -> None:
        with self.lock:
            run = self.runs.pop(uuid, None)
            if run is not None:
                self._by_short.pop(run.label[:12], None)
                self._by_label.pop(run.label, None)

    def active(self) -> list[str]:
        with self.lock:
            return [uuid for uuid, run in self.runs.items() if not run.done.is_set()]

    def pods_of(self, run: TrackedRun) -> list[Obj]:
        with self.lock:
            return list(self._pods.get(run.label[:12], {}).values())

    # -- from the watchers -------------------------------------------------------------------------

    def on_object(self, kind: ResourceKind, event_type: str, obj: Obj) -> None:
        with self.lock:
            uuid = self._record(kind, event_type, obj)
        if uuid is not None:
            self.monitor.mark(uuid)

    def on_relist(self, kind: ResourceKind, items: list[Obj]) -> None:
        with self.lock:
            if kind == POD:
                self._pods = {}
            for item in items:
                self._record(kind, "ADDED", item)

    def _record(self, kind: ResourceKind, event_type: str, obj: Obj) -> str | None:
        name = obj["metadata"]["name"]
        label = pod_run_label(obj)
        if kind == POD:
            # Pods carry the run's labels, except those of operators that drop template labels
            # (Dask's): their names still start with the run's object name.
            short = label[:12] if label else short_uuid_of(name)
            if short is None:
                return None
            uuid = self._by_short.get(short)
            run = self.runs.get(uuid) if uuid else None
            pods = self._pods.setdefault(short, {})
            if event_type == "DELETED":
                pods.pop(name, None)
                if not pods:
                    del self._pods[short]
            else:
                pods[name] = obj
            if run is not None:
                self._note_pod(run, obj)
            return uuid if run is not None else None
        if label is None:
            return None
        uuid = self._by_label.get(label)
        run = self.runs.get(uuid) if uuid else None
        mine = run is not None and obj["metadata"].get("uid") == run.primary_uid
        if run is not None and mine and kind == run.primary_kind and name == run.primary_name:
            run.last_primary = obj
            run.primary_gone = event_type == "DELETED"
        return uuid if run is not None else None

    def _note_pod(self, run: TrackedRun, pod: Obj) -> None:
        if pod_state.has_run(pod):
            run.ran = True
        uid = pod["metadata"]["uid"]
        if pod_state.phase(pod) == "Failed" and uid not in run.failed_pods:
            why = pod_state.failure(pod, run.display_name)
            if why is not None:
                run.failed_pods[uid] = (run.replica_of(pod), why)

    def on_event(self, event: Obj) -> None:
        involved = event.get("involvedObject") or {}
        short = short_uuid_of(str(involved.get("name", "")))
        if short is None:
            return
        with self.lock:
            run = self.runs.get(self._by_short.get(short, ""))
            if run is None or run.done.is_set():
                return
            key = (str(event.get("metadata", {}).get("uid", "")), int(event.get("count") or 1))
            if key in run.seen_events:
                return
            run.seen_events.add(key)
        stamp = _event_time(event)
        if run.logs_since is not None and stamp <= run.logs_since:
            return
        count = int(event.get("count") or 1)
        line = (
            f"{involved.get('kind')}/{involved.get('name')}: {event.get('type', 'Normal')} "
            f"{event.get('reason', '')}: {event.get('message', '')}" + (f" (x{count})" if count > 1 else "")
        )
        self.buffer.add(run.uuid, LogLine(timestamp=stamp, container=EVENTS_CONTAINER, line=line))

    # -- decisions ---------------------------------------------------------------------------------

    def reconcile(self, uuid: str) -> None:
        with self.lock:
            run = self.runs.get(uuid)
        if run is None or run.done.is_set():
            return
        pods = self.pods_of(run)
        self._follow_logs(run, pods)
        if run.stop_requested:
            self._stop_step(run)
            return
        primary = self._primary(run)
        if primary is _NOT_YET:
            return
        if primary is None:
            kind, name = run.primary_kind.kind, run.primary_name
            message = (
                f"the {kind} {name} was deleted from namespace {self.namespace} while the run was active"
            )
            self._complete(
                run, run_status.Verdict(S.FAILED, f"deleted outside Mizzen: {kind} {name}", message)
            )
            return
        with self.lock:
            failures = list(run.failed_pods.items())
        snapshot = run_status.Snapshot(
            primary=primary,  # type: ignore[arg-type]
            pods=pods,
            display=run.display_name,
            last_failure=failures[-1][1] if failures else None,
        )
        verdict = run_status.verdict(run.primary_kind.kind, snapshot)
        if not verdict.final and run.primary_kind == JOB:
            self._report_retries(run, primary, failures)  # type: ignore[arg-type]
        if verdict.problem is not None and verdict.problem.kind == "image-pull":
            run.problem_since = run.problem_since or time.monotonic()
            waited = time.monotonic() - run.problem_since
            if verdict.problem.fatal or waited >= self.timeouts.image_pull:
                self._give_up(run, verdict)
                return
        else:
            run.problem_since = None
        if verdict.final:
            # The pods' side of the story (why it failed) may still be on its way: read it now.
            snapshot.pods = self._refresh_pods(run)
            with self.lock:
                failures = list(run.failed_pods.items())
            snapshot.last_failure = failures[-1][1] if failures else None
            self._complete(run, run_status.verdict(run.primary_kind.kind, snapshot), snapshot.pods)
            return
        run.reporter.report(verdict.status, verdict.reason, verdict.message)

    def _primary(self, run: TrackedRun) -> Obj | object | None:
        if run.created_version is None:
            return _NOT_YET  # still being created
        watcher = self.monitor.watch(run.primary_kind)
        current = watcher.get(run.primary_name)
        if current is not None and current["metadata"].get("uid") != run.primary_uid:
            current = None  # an older execution's object, on its way out
        if current is not None and not run.primary_gone:
            return current
        last = run.last_primary
        if last is not None and run.finished(last):
            return last  # finished, then deleted (ttl) before this look: its last state counts
        if run.primary_gone or watcher.caught_up_with(run.created_version):
            return None
        return _NOT_YET

    def _refresh_pods(self, run: TrackedRun) -> list[Obj]:
        """The run's pods as the API has them now (the watch may lag behind the top-level object)."""
        try:
            items, _ = self.adapter.list(POD, self.namespace, label_selector=f"{RUN_UUID}={run.label}")
        except ApiFailure as failure:
            log.warning("listing the pods of run %s failed: %s", run.uuid, failure)
            return self.pods_of(run)
        fresh = {pod["metadata"]["name"] for pod in items}
        unlabelled = [
            pod
            for pod in self.pods_of(run)
            if pod["metadata"]["name"] not in fresh and not pod_run_label(pod)
        ]
        with self.lock:
            for pod in items:
                self._note_pod(run, pod)
        return items + unlabelled

    def _report_retries(self, run: TrackedRun, job: Obj, failures: list[tuple[str, Any]]) -> None:
        new = [uid for uid, _ in failures if uid not in run.reported_failures]
        if not new:
            return
        attempts = int((job.get("spec") or {}).get("backoffLimit") or 0) + 1
        if len(run.reported_failures) + len(new) >= attempts:
            return  # that was the last attempt: the Job is about to fail, not retry
        run.reported_failures.update(new)
        _, why = dict(failures)[new[-1]]
        failed = len(run.reported_failures)
        message = f"attempt {failed} of {attempts} failed ({why.message}); retrying"
        run.reporter.report(S.RETRYING, why.reason, message)

    def _follow_logs(self, run: TrackedRun, pods: list[Obj]) -> None:
        for pod in pods:
            meta, replica = pod["metadata"], run.replica_of(pod)
            for container, instance in pod_state.started_containers(pod):
                run.logs.follow(
                    meta["name"], meta["uid"], container, instance, run.display_name(container), replica
                )

    def _drain_logs(self, run: TrackedRun, *, join: bool, pods: list[Obj] | None = None) -> None:
        pods = self.pods_of(run) if pods is None else pods
        self._follow_logs(run, pods)
        run.logs.drain({pod["metadata"]["uid"] for pod in pods})
        if join:
            running = {
                (pod["metadata"]["uid"], str(entry.get("name")))
                for pod in pods
                for entry in pod_state.container_statuses(pod, init=True) + pod_state.container_statuses(pod)
                if "running" in (entry.get("state") or {})
            }
            run.logs.join(self.timeouts.log_join, running)
        self.buffer.flush(run.uuid)

    def _complete(self, run: TrackedRun, verdict: run_status.Verdict, pods: list[Obj] | None = None) -> None:
        self._drain_logs(run, join=True, pods=pods)
        run.reporter.report(verdict.status, verdict.reason, verdict.message, ran=run.ran)
        self._finish(run)

    def _give_up(self, run: TrackedRun, verdict: run_status.Verdict) -> None:
        """A failure the cluster would retry forever: read the logs, delete the objects, fail the run."""
        self._drain_logs(run, join=False)
        delete_objects(self.adapter, run, propagation="Background")
        run.deleted_at = time.monotonic()
        message = verdict.problem.message if verdict.problem else verdict.message
        run.reporter.report(S.FAILED, verdict.reason, message, ran=run.ran)
        self._finish(run)

    def _stop_step(self, run: TrackedRun) -> None:
        if run.deleted_at is None:
            self._drain_logs(run, join=False)
            delete_objects(self.adapter, run, propagation="Foreground")
            grace = max(0, int(run.stop_grace))
            for pod in self.pods_of(run):
                try:
                    self.adapter.delete(POD, pod["metadata"]["name"], self.namespace, grace_seconds=grace)
                except ApiFailure as failure:
                    log.warning("deleting pod %s failed: %s", pod["metadata"]["name"], failure)
            run.deleted_at = time.monotonic()
        watcher = self.monitor.watch(run.primary_kind)
        gone = watcher.get(run.primary_name) is None and not self.pods_of(run)
        overdue = time.monotonic() - run.deleted_at >= run.stop_grace + self.timeouts.stop
        if not (gone or overdue):
            return
        run.logs.join(self.timeouts.log_join)
        self.buffer.flush(run.uuid)
        message = (
            "its objects were deleted"
            if gone
            else "its objects were still terminating after the grace period"
        )
        run.reporter.report(S.STOPPED, "stopped by user", message)
        self._finish(run)

    def _finish(self, run: TrackedRun) -> None:
        self.buffer.flush(run.uuid)
        run.logs.close()
        if run.ttl is not None and run.deleted_at is None:
            run.cleanup_at = time.monotonic() + run.ttl
            with self.lock:
                self._cleanups[run.uuid] = run
        run.done.set()

    def housekeeping(self) -> None:
        """Delete the objects of ended runs whose ttl passed (their logs were read when they ended)."""
        now = time.monotonic()
        with self.lock:
            due = [
                run for run in self._cleanups.values() if run.cleanup_at is not None and run.cleanup_at <= now
            ]
            for run in due:
                del self._cleanups[run.uuid]
        for run in due:
            delete_objects(self.adapter, run, propagation="Background")
            run.deleted_at = now
