"""``RunScheduler``: the loop that hands runs to one executor and records what it reports.

Each tick it claims created runs meant for its executor, compiles each with the executor's
``RuntimeContext`` (paths differ between a laptop and a pod), stores the Plan and submits it; it
also passes on stop requests. It is the executor's ``ExecutorEvents`` sink: reported statuses go
through the status machine (``RunSource.report_status``), logs to the run's logs.

Woken early by ``wake()`` (the API's event bus calls it when a run is created or a stop is asked
for in this process); otherwise it polls, which is how it hears of requests made by other processes.
With ``busy_interval`` (the agent's), it polls at that shorter interval for ``busy_seconds`` after it
claimed a run or one of its runs ended: a pipeline's next step is created right after a step ends,
so the agent hears of it at once, while an idle agent still asks only once per ``poll_interval``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from mizzen.compiler.plan import Plan, RuntimeContext
from mizzen.errors import MizzenError
from mizzen.executors.base import Executor
from mizzen.scheduler.caching import cache_key
from mizzen.scheduler.source import ClaimedRun, RunSource, new_owner_id, run_ref
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

log = logging.getLogger(__name__)

CompileRun = Callable[[ClaimedRun, RuntimeContext], Plan]


class RunScheduler:
    def __init__(
        self,
        source: RunSource,
        compile_run: CompileRun,
        *,
        api_host: str,
        owner: str | None = None,
        poll_interval: float = 0.5,
        claim_batch: int = 16,
        busy_interval: float | None = None,
        busy_seconds: float = 5.0,
    ) -> None:
        self.source = source
        self.compile_run = compile_run
        self.api_host = api_host
        self.owner = owner or new_owner_id()
        self.poll_interval = poll_interval
        self.claim_batch = claim_batch
        self.busy_interval = busy_interval
        self.busy_seconds = busy_seconds
        self._busy_until = 0.0  # time.monotonic() until which it polls at busy_interval
        self.executor: Executor | None = None
        self._active: set[str] = set()
        self._stopping: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def attach(self, executor: Executor) -> None:
        """The executor reports to this scheduler, so it is built after it: attach it here."""
        self.executor = executor

    def start(self) -> None:
        if self.executor is None:
            raise RuntimeError("attach an executor before starting the scheduler")
        self._thread = threading.Thread(target=self._run, name="mizzen-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming, stop every active run (they end ``stopped``), release the executor."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.executor is not None:
            self.executor.close(grace_seconds)

    @property
    def active(self) -> set[str]:
        with self._lock:
            return set(self._active)

    # -- the loop ------------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not end the loop: log it and go on
                log.exception("scheduler tick failed")
            self._wake.wait(self._interval())
            self._wake.clear()

    def _interval(self) -> float:
        if self.busy_interval is not None and time.monotonic() < self._busy_until:
            return self.busy_interval
        return self.poll_interval

    def _note_work(self) -> None:
        self._busy_until = time.monotonic() + self.busy_seconds

    def tick(self) -> None:
        executor = self._executor()
        for uuid in self.source.stop_requested(executor.name, self.owner):
            with self._lock:
                first_request = uuid not in self._stopping
                self._stopping.add(uuid)
            if first_request:
                executor.stop(uuid)
        if self._closed.is_set():
            return
        for run in self.source.claim(executor.name, self.owner, self.claim_batch):
            self._note_work()
            try:
                self._start(run)
            except Exception as error:  # whatever raised, the run is ours: it must end, and the batch go on
                log.exception("run %s could not be started", run.uuid)
                with self._lock:
                    self._active.discard(run.uuid)
                self.source.report_status(
                    run.uuid,
                    RunStatus.FAILED,
                    "scheduler error",
                    f"the scheduler could not start it: {error}",
                )

    def _start(self, run: ClaimedRun) -> None:
        executor = self._executor()
        ref = run_ref(run, self.api_host)
        try:
            plan = self.compile_run(run, executor.runtime_context(ref))
            key = cache_key(plan, run)
        except MizzenError as error:
            self.source.report_status(run.uuid, RunStatus.FAILED, "compile error", str(error))
            return
        if key is not None and self.source.use_cache(run.uuid, key, plan.cache.ttl if plan.cache else None):
            return  # skipped: a succeeded run with the same cache key did this work already
        self.source.record_plan(run.uuid, plan.model_dump(mode="json", by_alias=True))
        with self._lock:
            self._active.add(run.uuid)
        try:
            executor.submit(ref, plan)
        except MizzenError as error:
            with self._lock:
                self._active.discard(run.uuid)
            self.source.report_status(run.uuid, RunStatus.FAILED, "not submitted", str(error))

    def _executor(self) -> Executor:
        if self.executor is None:
            raise RuntimeError("no executor attached")
        return self.executor

    # -- ExecutorEvents ------------------------------------------------------------------------------

    def on_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        self.source.report_status(uuid, status, reason, message)
        if status in DONE_STATUSES:
            self._note_work()  # a pipeline may create its next step now
            with self._lock:
                self._active.discard(uuid)
                self._stopping.discard(uuid)

    def on_logs(self, uuid: str, lines: list[LogLine]) -> None:
        self.source.report_logs(uuid, lines)
