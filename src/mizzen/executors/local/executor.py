"""The local executor: runs Plans as processes on this machine, a FIFO queue in front of them."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.artifacts.store import ArtifactsStore
from mizzen.compiler.plan import Plan, RuntimeContext
from mizzen.errors import ExecutorError
from mizzen.executors.base import ExecutorCapabilities, ExecutorEvents, RunRef
from mizzen.executors.local.catalog import SECRETS_FILE, load_catalog
from mizzen.executors.local.gpus import GpuAllocator, GpuInventory
from mizzen.executors.local.layout import RunLayout
from mizzen.executors.local.outcome import Outcome, failed
from mizzen.executors.local.reaper import Reaper
from mizzen.executors.local.supervisor import Backoff, LocalConfig, Reporter, RunSupervisor
from mizzen.render.local import SUPPORTED_KINDS, UNSUPPORTED_KINDS, SecretCatalog, gpus_needed
from mizzen.schemas.statuses import RunStatus

if TYPE_CHECKING:
    from mizzen.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class _Entry:
    run: RunRef
    plan: Plan
    reporter: Reporter
    done: threading.Event = field(default_factory=threading.Event)
    supervisor: RunSupervisor | None = None
    ttl_timer: threading.Timer | None = None


class LocalExecutor:
    """Implements ``mizzen.executors.base.Executor`` with subprocesses on this machine."""

    name = "local"

    def __init__(
        self,
        events: ExecutorEvents,
        *,
        home: Path,
        artifacts_store: str,
        storage_options: Mapping[str, Any] | None = None,
        max_concurrency: int = 4,
        catalog: SecretCatalog | None = None,
        gpus: GpuInventory | None = None,
        backoff: Backoff | None = None,
        kill_grace: float = 5.0,
        readiness_timeout: float = 300.0,
        log_flush_interval: float = 0.1,
    ) -> None:
        if max_concurrency < 1:
            raise ExecutorError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self._events = events
        self._max_concurrency = max_concurrency
        self._gpus = GpuAllocator(gpus if gpus is not None else GpuInventory.discover())
        self._config = LocalConfig(
            home=Path(home),
            store=ArtifactsStore(artifacts_store, storage_options),
            catalog=catalog or SecretCatalog(),
            backoff=backoff or Backoff(),
            machine_gpus=self._gpus.total,
            kill_grace=kill_grace,
            readiness_timeout=readiness_timeout,
            log_flush_interval=log_flush_interval,
            reaper=Reaper(),
        )
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._queue: deque[_Entry] = deque()
        self._running = 0

    @classmethod
    def from_settings(cls, settings: Settings, events: ExecutorEvents, **overrides: Any) -> LocalExecutor:
        options: dict[str, Any] = {
            "home": settings.home,
            "artifacts_store": settings.resolved_artifacts_store,
            "storage_options": settings.artifacts_store_options,
            "max_concurrency": settings.max_concurrency,
            "catalog": load_catalog(settings.home / SECRETS_FILE),
        }
        return cls(events, **(options | overrides))

    # -- the Executor protocol --------------------------------------------------------------------

    @property
    def capabilities(self) -> ExecutorCapabilities:
        return ExecutorCapabilities(
            kinds=SUPPORTED_KINDS,
            services=True,
            gpus=self._gpus.total,
            distributed=True,
            max_concurrency=self._max_concurrency,
            notes={kind.value: why for kind, why in UNSUPPORTED_KINDS.items()},
        )

    def runtime_context(self, run: RunRef) -> RuntimeContext:
        return self._layout(run.uuid).context(run, self._config.store)

    def submit(self, run: RunRef, plan: Plan) -> None:
        with self._lock:
            previous = self._entries.get(run.uuid)
            if previous is not None and not previous.done.is_set():
                raise ExecutorError(f"run {run.uuid} is already submitted to the local executor")
            if previous is not None and previous.ttl_timer is not None:
                previous.ttl_timer.cancel()
            entry = _Entry(run, plan, Reporter(run.uuid, self._events))
            self._entries[run.uuid] = entry
        entry.reporter.status(RunStatus.QUEUED)
        with self._lock:
            self._queue.append(entry)
        self._dispatch()

    def stop(self, uuid: str, grace_seconds: float = 10.0) -> None:
        with self._lock:
            entry = self._entries.get(uuid)
            if entry is None or entry.done.is_set():
                return
            queued = entry in self._queue
            if queued:
                self._queue.remove(entry)
            supervisor = entry.supervisor
        if queued:
            entry.reporter.status(RunStatus.STOPPED, "stopped by user", "stopped before it started")
            entry.done.set()
            self._dispatch()  # the run at the head may have been blocking others
        elif supervisor is not None:
            supervisor.stop(grace_seconds)

    def clean(self, uuid: str) -> None:
        with self._lock:
            entry = self._entries.get(uuid)
            if entry is not None and not entry.done.is_set():
                raise ExecutorError(f"run {uuid} is still active: stop it before cleaning it")
            self._entries.pop(uuid, None)
        if entry is not None and entry.ttl_timer is not None:
            entry.ttl_timer.cancel()
        self._layout(uuid).remove()

    def wait(self, uuid: str, timeout: float | None = None) -> RunStatus | None:
        with self._lock:
            entry = self._entries.get(uuid)
        if entry is None:
            raise ExecutorError(f"run {uuid} is not known to the local executor")
        if not entry.done.wait(timeout):
            return None
        return entry.reporter.final

    def close(self, grace_seconds: float = 10.0) -> None:
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            self.stop(entry.run.uuid, grace_seconds)
        for entry in entries:
            entry.done.wait(grace_seconds + 30)
            if entry.ttl_timer is not None:
                entry.ttl_timer.cancel()
        if self._config.reaper is not None:
            self._config.reaper.close()

    # -- inside -----------------------------------------------------------------------------------

    def _layout(self, uuid: str) -> RunLayout:
        return RunLayout.of(self._config.home, uuid, self._config.store)

    def _dispatch(self) -> None:
        """Start queued runs in FIFO order while a slot and their GPUs are free."""
        starting: list[RunSupervisor] = []
        impossible: list[tuple[_Entry, int]] = []
        broken: list[tuple[_Entry, str]] = []
        with self._lock:
            while self._queue and self._running < self._max_concurrency:
                entry = self._queue[0]
                needed = gpus_needed(entry.plan)
                if needed > self._gpus.total:
                    self._queue.popleft()
                    impossible.append((entry, needed))
                    continue
                gpu_ids = self._gpus.allocate(entry.run.uuid, needed)
                if gpu_ids is None:
                    break  # strict FIFO: the head waits for GPUs and the rest wait behind it
                self._queue.popleft()
                self._running += 1
                try:
                    entry.supervisor = self._supervisor(entry, gpu_ids)
                except Exception as error:  # a bug must not keep the slot and the GPUs forever
                    logger.exception("local run %s could not be started", entry.run.uuid)
                    self._running -= 1
                    self._gpus.release(entry.run.uuid)
                    broken.append((entry, f"the local executor failed: {error}"))
                    continue
                starting.append(entry.supervisor)
        for entry, needed in impossible:
            reason = f"needs {needed} GPUs, this machine has {self._gpus.total}"
            entry.reporter.status(RunStatus.UNSCHEDULABLE, reason, reason)
            entry.reporter.status(
                RunStatus.FAILED, f"unschedulable: {reason}", f"{reason}: run it on a cluster"
            )
            entry.done.set()
        for entry, why in broken:
            entry.reporter.status(RunStatus.FAILED, "executor error", why)
            entry.done.set()
        for supervisor in starting:
            try:
                supervisor.start()
            except Exception as error:  # no thread to run it (a resource limit): free its slot
                logger.exception("local run %s could not be started", supervisor.run.uuid)
                why = f"the local executor failed: {error}"
                supervisor.reporter.status(RunStatus.FAILED, "executor error", why)
                self._finished(supervisor, failed("executor error", why, retryable=False))

    def _supervisor(self, entry: _Entry, gpu_ids: list[int]) -> RunSupervisor:
        return RunSupervisor(
            entry.run,
            entry.plan,
            config=self._config,
            reporter=entry.reporter,
            gpu_ids=gpu_ids,
            on_finished=self._finished,
        )

    def _finished(self, supervisor: RunSupervisor, outcome: Outcome) -> None:
        uuid = supervisor.run.uuid
        ttl = supervisor.plan.termination.ttl
        with self._lock:
            self._running -= 1
            self._gpus.release(uuid)
            entry = self._entries.get(uuid)
        if entry is not None:
            if ttl is not None:
                entry.ttl_timer = threading.Timer(ttl, supervisor.layout.remove)
                entry.ttl_timer.daemon = True
                entry.ttl_timer.start()
            entry.done.set()
        logger.debug("local run %s ended: %s", uuid, outcome)
        self._dispatch()
