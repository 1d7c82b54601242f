"""The Kubernetes executor: runs Plans as cluster objects and keeps their statuses and logs true.

    executor = KubernetesExecutor(events, namespace="ml", kubeconfig="~/.kube/config",
                                  render_options=RenderOptions(artifacts_store=...), api_host=URL)
    executor.check_operators()          # which CRDs exist; runs of a kind without one fail clearly
    executor.adopt(owned_runs)          # after a restart: resume watching, never create twice
    executor.submit(run, plan)          # create the token Secret and every object (idempotent)

Statuses follow the local executor's sequence (queued, scheduled, starting, running, then
succeeded | failed | stopped; retrying between attempts of a Job) with the cluster's "why" as the
reason. Pod and object events are recorded as log lines of the container ``events``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from mizzen.artifacts.location import POD_ARTIFACTS_PATH, POD_CONTEXT_PATH
from mizzen.compiler.plan import Plan, RunKind, RuntimeContext
from mizzen.errors import ExecutorError, MizzenError
from mizzen.executors.base import ExecutorCapabilities, ExecutorEvents, RunRef
from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter
from mizzen.executors.kubernetes.logs import LogBuffer, LogPosition, RunLogs
from mizzen.executors.kubernetes.monitor import ClusterMonitor
from mizzen.executors.kubernetes.objects import (
    create_objects,
    defer_ttl,
    delete_by_label,
    remove_leftovers,
    token_secret,
)
from mizzen.executors.kubernetes.reconciler import Reconciler, Timeouts
from mizzen.executors.kubernetes.reporting import StatusReporter
from mizzen.executors.kubernetes.resources import (
    POD,
    PRIMARY_KINDS,
    RUN_KIND_RESOURCES,
    OperatorMissing,
    ResourceKind,
    kind_of,
    missing_operator_message,
)
from mizzen.executors.kubernetes.runs import OwnedRun, TrackedRun, primary_of, token_secret_name
from mizzen.executors.kubernetes.watch import ResourceWatcher
from mizzen.render.k8s import RenderOptions, StoreLocation, render_plan
from mizzen.render.k8s.metadata import RUN_UUID, run_uuid_label
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

log = logging.getLogger(__name__)
S = RunStatus

CONTEXT_PATH = POD_CONTEXT_PATH
ARTIFACTS_PATH = POD_ARTIFACTS_PATH
# Statuses a run can hold before its objects were certainly created: adopt() submits those again.
NOT_YET_SUBMITTED = frozenset({S.CREATED, S.ON_SCHEDULE, S.COMPILED, S.QUEUED})
EVENT_CLOCK_SLACK = 5.0  # seconds the cluster's clock may lag behind this one


def pod_context(
    run: RunRef, namespace: str, store: StoreLocation | None, api_host: str | None = None
) -> RuntimeContext:
    """The RuntimeContext of ``run`` as its pods see it: paths inside a pod, the artifacts store, and
    the API at ``api_host`` (default: the run's own)."""
    run_artifacts = f"{ARTIFACTS_PATH}/{run.uuid}"
    return run.runtime_context(
        namespace=namespace,
        context_path=CONTEXT_PATH,
        artifacts_path=ARTIFACTS_PATH,
        run_artifacts_path=run_artifacts,
        run_outputs_path=f"{run_artifacts}/outputs",
        api_host=api_host or run.api_host,
        **({"store_path": store.url} if store else {}),
    )


class KubernetesExecutor:
    """Implements ``mizzen.executors.base.Executor`` on a Kubernetes namespace."""

    name = "kubernetes"

    def __init__(
        self,
        events: ExecutorEvents,
        *,
        namespace: str = "default",
        adapter: KubeAdapter | None = None,
        kubeconfig: str | None = None,
        kube_context: str | None = None,
        in_cluster: bool = False,
        render_options: RenderOptions | None = None,
        api_host: str | None = None,
        default_image: str | None = None,
        gpus: int = 0,
        timeouts: Timeouts | None = None,
        stop_on_close: bool = False,
        tick_interval: float = 0.5,
        watch_timeout: int = 300,
        watch_error_pause: float = 1.0,
        log_flush_interval: float = 0.2,
    ) -> None:
        if adapter is None:
            adapter = (
                KubeAdapter.in_cluster()
                if in_cluster
                else KubeAdapter.from_kubeconfig(kubeconfig, kube_context)
            )
        self.adapter = adapter
        self.namespace = namespace
        self.api_host = api_host
        self.default_image = default_image
        self.stop_on_close = stop_on_close
        self._events = events
        self._gpus = gpus
        options = render_options or RenderOptions()
        self._options = options.model_copy(
            update={"namespace": namespace, "api_host": api_host or options.api_host}
        )
        self._crds: set[str] | None = None
        self._crds_checked = False  # the agent checks them before it starts: once is enough
        self._untracked: dict[str, StatusReporter] = {}  # runs that ended before they were tracked
        self._start_lock = threading.Lock()
        self._buffer = LogBuffer(events.on_logs, flush_interval=log_flush_interval)
        self._reconciler = Reconciler(adapter, namespace, self._buffer, timeouts or Timeouts())
        self._monitor = ClusterMonitor(
            adapter,
            namespace,
            on_object=self._reconciler.on_object,
            on_event=self._reconciler.on_event,
            on_relist=self._reconciler.on_relist,
            reconcile=self._reconciler.reconcile,
            active_runs=self._reconciler.active,
            housekeeping=self._reconciler.housekeeping,
            tick_interval=tick_interval,
            watch_timeout=watch_timeout,
            error_pause=watch_error_pause,
        )
        self._reconciler.monitor = self._monitor

    # -- setup ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Check the operators and start watching (submit and adopt do it on first use)."""
        with self._start_lock:
            if self._monitor.started:
                return
            if not self._crds_checked:
                self.check_operators()
            self._monitor.start()

    @property
    def watchers(self) -> dict[str, ResourceWatcher]:
        """The running watchers by resource plural (their resourceVersion, lists, bookmarks)."""
        return dict(self._monitor.watchers)

    def check_operators(self) -> dict[RunKind, str]:
        """List the CRDs; returns, per run kind that cannot run here, which operator to install."""
        try:
            self._crds = self.adapter.list_crds()
        except ApiFailure as failure:
            if failure.status != 403:
                raise
            log.warning(
                "cannot list CustomResourceDefinitions (%s): assuming every operator is installed", failure
            )
            self._crds = None
        self._crds_checked = True
        return self.missing_operators()

    def missing_operators(self) -> dict[RunKind, str]:
        missing: dict[RunKind, str] = {}
        for run_kind, kinds in RUN_KIND_RESOURCES.items():
            absent = next((kind for kind in kinds if not self._installed(kind)), None)
            if absent is not None:
                missing[run_kind] = missing_operator_message(run_kind.value, absent)
        return missing

    def _installed(self, kind: ResourceKind) -> bool:
        """Served here, as far as the last look at the CRDs knows (all are, when they cannot be listed)."""
        return not kind.custom or self._crds is None or kind.crd_name in self._crds

    # -- the Executor protocol -------------------------------------------------------------------------

    @property
    def capabilities(self) -> ExecutorCapabilities:
        missing = self.missing_operators()
        return ExecutorCapabilities(
            kinds=frozenset(RUN_KIND_RESOURCES) - set(missing),
            services=True,
            gpus=self._gpus,
            distributed=True,
            max_concurrency=None,
            notes={kind.value: why for kind, why in missing.items()},
        )

    def runtime_context(self, run: RunRef) -> RuntimeContext:
        return pod_context(run, self.namespace, self._options.artifacts_store, self.api_host)

    def submit(self, run: RunRef, plan: Plan) -> None:
        self.start()
        with self._reconciler.lock:
            previous = self._reconciler.runs.get(run.uuid)
            if previous is not None and not previous.done.is_set():
                raise ExecutorError(f"run {run.uuid} is already submitted to the Kubernetes executor")
        reporter = StatusReporter(run.uuid, self._events)
        reporter.report(S.QUEUED)
        self._submit(run, plan, reporter)

    def stop(self, uuid: str, grace_seconds: float = 10.0) -> None:
        with self._reconciler.lock:
            run = self._reconciler.runs.get(uuid)
            if run is None or run.done.is_set() or run.stop_requested:
                return
            run.stop_requested = True
            run.stop_grace = grace_seconds
        run.reporter.report(S.STOPPING, "stopped by user", "deleting the run's objects")
        self._monitor.mark(uuid)

    def clean(self, uuid: str) -> None:
        with self._reconciler.lock:
            run = self._reconciler.runs.get(uuid)
            if run is not None and not run.done.is_set():
                raise ExecutorError(f"run {uuid} is still active: stop it before cleaning it")
        present = [kind for kind in PRIMARY_KINDS if self._installed(kind)]
        delete_by_label(self.adapter, self.namespace, run_uuid_label(uuid), present)
        self._reconciler.forget(uuid)

    def wait(self, uuid: str, timeout: float | None = None) -> RunStatus | None:
        with self._reconciler.lock:
            run = self._reconciler.runs.get(uuid)
        if run is None:
            if uuid in self._untracked:
                return self._untracked[uuid].final
            raise ExecutorError(f"run {uuid} is not known to the Kubernetes executor")
        if not run.done.wait(timeout):
            return None
        return run.reporter.final

    def close(self, grace_seconds: float = 10.0) -> None:
        """Release threads and connections. Runs keep running in the cluster (a new executor adopts
        them) unless ``stop_on_close`` was set, then they are stopped first."""
        if self.stop_on_close:
            active = self._reconciler.active()
            for uuid in active:
                self.stop(uuid, grace_seconds)
            for uuid in active:
                self._reconciler.runs[uuid].done.wait(grace_seconds + 30)
        self._monitor.close()
        with self._reconciler.lock:
            runs = list(self._reconciler.runs.values())
        for run in runs:
            run.logs.close()
        self._buffer.close()
        self.adapter.close()
        self._monitor.join_watchers(5)

    # -- after a restart ---------------------------------------------------------------------------------

    def adopt(self, owned: Iterable[OwnedRun]) -> None:
        """Resume runs created by an earlier executor: find their objects by label, watch them again
        and stream their logs; create nothing that exists. A run whose objects vanished while nobody
        watched fails; one that was never submitted (its status says so) is submitted now."""
        self.start()
        by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        for item in owned:
            if item.status in DONE_STATUSES:
                continue
            reporter = StatusReporter(item.run.uuid, self._events, last=item.status)
            try:
                tracked = self._track(item.run, item.plan, reporter, logs=item.logs)
            except MizzenError as error:
                self._untracked[item.run.uuid] = reporter
                reporter.report(S.FAILED, "not adopted", str(error))
                continue
            kind = tracked.primary_kind
            if kind.plural not in by_kind:
                items, _ = self.adapter.list(kind, self.namespace, label_selector=f"{RUN_UUID}")
                by_kind[kind.plural] = {obj["metadata"]["name"]: obj for obj in items}
            found = by_kind[kind.plural].get(tracked.primary_name)
            if found is None and (item.status is None or item.status in NOT_YET_SUBMITTED):
                self._reconciler.forget(item.run.uuid)
                self._submit(item.run, item.plan, reporter)
                continue
            if found is None:
                message = (
                    f"the {kind.kind} {tracked.primary_name} is gone from namespace {self.namespace}: "
                    "it was deleted while no Mizzen agent was watching"
                )
                self._reconciler.track(tracked)
                reporter.report(S.FAILED, f"lost: {kind.kind} {tracked.primary_name}", message)
                tracked.done.set()
                continue
            tracked.primary_uid = str(found["metadata"]["uid"])
            tracked.created_version = str(found["metadata"].get("resourceVersion", ""))
            tracked.last_primary = found
            self._monitor.watch(kind)
            self._reconciler.track(tracked)
            self._monitor.mark(tracked.uuid)
        self._monitor.wait_synced([POD], 30)
        with self._reconciler.lock:  # failures seen before the restart were reported then
            for run in self._reconciler.runs.values():
                if not run.done.is_set():
                    run.reported_failures.update(run.failed_pods)

    # -- inside ------------------------------------------------------------------------------------------

    def _submit(self, run: RunRef, plan: Plan, reporter: StatusReporter) -> None:
        try:
            tracked = self._track(run, plan, reporter)
            self._check_operator(plan, tracked.objects)
        except MizzenError as error:
            reason = "operator missing" if isinstance(error, OperatorMissing) else "cannot run on Kubernetes"
            self._untracked[run.uuid] = reporter
            reporter.report(S.FAILED, reason, str(error))
            return
        self._monitor.watch(tracked.primary_kind)
        self._reconciler.track(tracked)
        try:
            if remove_leftovers(self.adapter, tracked):
                # The earlier execution's events are still in the cluster: they are not news.
                tracked.logs_since = time.time() - EVENT_CLOCK_SLACK
            stored = create_objects(self.adapter, tracked)
        except MizzenError as error:
            rejected = isinstance(error, ApiFailure) and error.status == 422
            reporter.report(
                S.FAILED, "rejected by the API server" if rejected else "not submitted", str(error)
            )
            tracked.done.set()
            return
        tracked.primary_uid = str(stored["metadata"]["uid"])
        tracked.created_version = str(stored["metadata"].get("resourceVersion", ""))
        reporter.report(
            S.SCHEDULED, None, f"{tracked.primary_kind.kind} {tracked.primary_name} in {self.namespace}"
        )
        self._monitor.mark(run.uuid)

    def _track(
        self, run: RunRef, plan: Plan, reporter: StatusReporter, *, logs: LogPosition | None = None
    ) -> TrackedRun:
        """Render the run's objects (pure: the same names every time) and what to track about it."""
        plan = self._with_default_image(plan)
        context = self.runtime_context(run)
        options = self._options
        if run.token:
            options = options.model_copy(update={"token_secret": token_secret_name(run.uuid)})
        objects = render_plan(plan, context, options)
        if run.token:
            objects.insert(0, token_secret(plan, context, options, run.token))
        primary = primary_of(objects, RUN_KIND_RESOURCES.get(plan.kind, PRIMARY_KINDS))
        defer_ttl(primary, plan.termination.ttl, self._reconciler.timeouts.ttl_backstop)
        return TrackedRun(
            ref=run,
            plan=plan,
            objects=objects,
            primary_kind=kind_of(primary),
            primary_name=primary["metadata"]["name"],
            reporter=reporter,
            logs=RunLogs(run.uuid, self.adapter, self.namespace, self._buffer, resume=logs),
            logs_since=logs.newest if logs is not None else None,
            ttl=plan.termination.ttl,
        )

    def _check_operator(self, plan: Plan, objects: list[dict[str, Any]]) -> None:
        for obj in objects:
            kind = kind_of(obj)
            if self._installed(kind):
                continue
            self.check_operators()  # installed since the last look?
            if not self._installed(kind):
                raise OperatorMissing(missing_operator_message(plan.kind.value, kind))

    def _with_default_image(self, plan: Plan) -> Plan:
        if self.default_image is None or all(r.pod.main is None or r.pod.main.image for r in plan.replicas):
            return plan
        replicas = []
        for replica in plan.replicas:
            main = replica.pod.main
            if main is not None and not main.image:
                main = main.model_copy(update={"image": self.default_image})
            replicas.append(replica.model_copy(update={"pod": replica.pod.model_copy(update={"main": main})}))
        return plan.model_copy(update={"replicas": replicas})
