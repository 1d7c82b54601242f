"""One local run from scheduled to done: init steps, processes, timeout, retries, stop."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mizzen.artifacts.store import ArtifactsStore
from mizzen.compiler.plan import Plan, RunKind
from mizzen.executors.base import ExecutorEvents, RunRef
from mizzen.executors.local.init_steps import InitRunner
from mizzen.executors.local.layout import RunLayout
from mizzen.executors.local.logs import LogCollector
from mizzen.executors.local.missing_code import no_code_hint
from mizzen.executors.local.network import free_ports, port_answers, port_is_free
from mizzen.executors.local.outcome import Outcome, RunFailure, failed
from mizzen.executors.local.processes import ManagedProcess, SpawnError, exit_reason, terminate
from mizzen.executors.local.reaper import Reaper
from mizzen.render.local import (
    LocalRenderError,
    LocalRun,
    ProcessSpec,
    SecretCatalog,
    declared_port,
    ports_needed,
    render_local,
)
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

logger = logging.getLogger(__name__)
LAST_WORDS = 300  # characters of a failed process's last line kept in its failure message


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): ``base * factor**(n-1)``, at most ``maximum`` seconds."""

    base: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0

    def delay(self, retry: int) -> float:
        return float(min(self.maximum, self.base * self.factor ** max(0, retry - 1)))


@dataclass(frozen=True)
class LocalConfig:
    home: Path
    store: ArtifactsStore
    catalog: SecretCatalog
    backoff: Backoff
    machine_gpus: int
    kill_grace: float = 5.0  # SIGTERM -> SIGKILL on timeout and when cleaning up sidecars
    readiness_timeout: float = 300.0  # a service must answer on its port within this
    log_flush_interval: float = 0.1
    reaper: Reaper | None = None  # kills the run's processes if this process dies without doing so


class Reporter:
    """Sends a run's statuses in order, once it is done sends no more, and hides consumer errors."""

    def __init__(self, uuid: str, events: ExecutorEvents) -> None:
        self.uuid = uuid
        self._events = events
        self._lock = threading.RLock()  # a consumer may call stop() from inside on_status
        self.final: RunStatus | None = None
        self._stopping = False

    def status(self, status: RunStatus, reason: str | None = None, message: str | None = None) -> None:
        with self._lock:
            if self.final is not None:
                return
            if self._stopping and status not in DONE_STATUSES:
                return  # once stopping, only the end is news
            if status in DONE_STATUSES:
                self.final = status
            self._stopping = self._stopping or status == RunStatus.STOPPING
            try:
                self._events.on_status(self.uuid, status, reason, message)
            except Exception:
                logger.exception("on_status failed for run %s", self.uuid)

    def logs(self, lines: list[LogLine]) -> None:
        try:
            self._events.on_logs(self.uuid, lines)
        except Exception:
            logger.exception("on_logs failed for run %s", self.uuid)


class RunSupervisor:
    def __init__(
        self,
        run: RunRef,
        plan: Plan,
        *,
        config: LocalConfig,
        reporter: Reporter,
        gpu_ids: list[int],
        on_finished: Callable[[RunSupervisor, Outcome], None],
    ) -> None:
        self.run = run
        self.plan = plan
        self.config = config
        self.reporter = reporter
        self.gpu_ids = gpu_ids
        self.layout = RunLayout.of(config.home, run.uuid, config.store)
        self.context = self.layout.context(run, config.store)
        self._on_finished = on_finished
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._stop_grace = 10.0
        self._lock = threading.Lock()
        self._active: list[ManagedProcess] = []
        self._deadline: float | None = None
        self._ending = False
        self._logs: LogCollector | None = None
        self._streams: dict[int, tuple[str, str | None]] = {}  # pid -> its log stream
        self._failed_stream: tuple[str, str | None] | None = None
        self.thread = threading.Thread(target=self._main, name=f"run-{run.uuid[:8]}", daemon=True)

    # -- control (any thread) -------------------------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def stop(self, grace: float) -> None:
        self._stop_grace = grace
        self.reporter.status(RunStatus.STOPPING, "stopped by user", "stopping: SIGTERM, then SIGKILL")
        self._stop.set()
        self._changed.set()

    # -- the run --------------------------------------------------------------------------------

    def _main(self) -> None:
        if self.config.reaper is not None:
            self.config.reaper.watch(self.run.uuid)
        try:
            outcome = self._lifecycle()
        except Exception as error:  # a bug must not leave the run hanging or its processes behind
            logger.exception("local run %s crashed", self.run.uuid)
            self._terminate_active(self.config.kill_grace)
            outcome = failed("executor error", f"the local executor failed: {error}", retryable=False)
        self._finish(outcome)

    def _lifecycle(self) -> Outcome:
        gpus = f"GPUs {','.join(map(str, self.gpu_ids))}" if self.gpu_ids else None
        self.reporter.status(RunStatus.SCHEDULED, None, gpus)
        self.layout.prepare()
        self._logs = LogCollector(
            self.reporter.logs, self.layout.logs, flush_interval=self.config.log_flush_interval
        )
        try:
            local = render_local(
                self.plan,
                self.context,
                api_host=self.run.api_host,
                token=self.run.token,
                catalog=self.config.catalog,
                ports=self._ports(),
            )
        except LocalRenderError as error:
            return failed(error.reason, error.message, retryable=False)
        self._announce(local)
        timeout = self.plan.termination.timeout
        self._deadline = time.monotonic() + timeout if timeout else None
        attempts = 1 + max(0, self.plan.termination.max_retries or 0)
        attempt = 1
        while True:
            interrupt = self._interrupt()
            if interrupt is not None:
                return interrupt
            self.reporter.status(
                RunStatus.STARTING, None, f"attempt {attempt} of {attempts}" if attempts > 1 else None
            )
            outcome = self._attempt(local)
            if outcome.status != RunStatus.FAILED or not outcome.retryable or attempt >= attempts:
                return outcome
            delay = self.config.backoff.delay(attempt)
            message = f"attempt {attempt} of {attempts} failed ({outcome.reason}); retrying in {delay:g}s"
            self._emit(message)
            self.reporter.status(RunStatus.RETRYING, outcome.reason, message)
            interrupt = self._sleep(delay)
            if interrupt is not None:
                return interrupt
            self.layout.reset_context()
            attempt += 1

    def _attempt(self, local: LocalRun) -> Outcome:
        grace = self.config.kill_grace
        self._ending = False
        try:
            init = self._init_runner()
            for spec in local.init:
                self._raise_if_interrupted()
                init.run(spec)
            self._raise_if_interrupted()
            gpu_ids = iter(self.gpu_ids)
            mains: list[tuple[ManagedProcess, bool]] = []
            for replica in local.replicas:
                for sidecar in replica.sidecars:
                    self._start(sidecar, [], sidecar=True)
                assigned = [next(gpu_ids) for _ in range(replica.main.gpus)]
                mains.append((self._start(replica.main, assigned), replica.completes_run))
            message = None
            if local.service_port is not None:
                message = self._wait_ready(local.service_port, mains[0][0])
                self._emit(message)
            self.reporter.status(RunStatus.RUNNING, None, message)
            outcome = self._monitor(mains, has_code=bool(local.init))
        except RunFailure as failure:
            outcome = failure.outcome
        except SpawnError as error:
            outcome = failed(error.reason, error.message, retryable=False)
        if outcome.status == RunStatus.STOPPED:
            grace = self._stop_grace
        self._ending = True  # sidecars killed now are not news
        self._terminate_active(grace)
        assert self._logs is not None
        self._logs.drain()
        return self._with_last_words(outcome)

    def _with_last_words(self, outcome: Outcome) -> Outcome:
        """A failed main process's message ends with the last line it wrote, as Kubernetes'
        ``FallbackToLogsOnError`` does: the why of a failure is seen without reading the logs."""
        stream = self._failed_stream
        self._failed_stream = None
        if outcome.status != RunStatus.FAILED or stream is None or self._logs is None:
            return outcome
        last = self._logs.last_line(*stream)
        if not last:
            return outcome
        last = last if len(last) <= LAST_WORDS else last[: LAST_WORDS - 3] + "..."
        return replace(outcome, message=f"{outcome.message or outcome.reason}: {last}")

    def _monitor(self, mains: list[tuple[ManagedProcess, bool]], *, has_code: bool) -> Outcome:
        while True:
            interrupt = self._interrupt()
            if interrupt is not None:
                return interrupt
            for process, _completes in mains:
                code = process.poll()
                if code is not None and code != 0:
                    reason = exit_reason(code) or ""
                    hint = None if has_code else no_code_hint(process.argv, process.cwd)
                    if hint is not None:
                        return failed(f"no code: {reason}", f"{process.label}: {hint}", retryable=False)
                    self._failed_stream = self._streams.get(process.pid)
                    return failed(reason, f"{process.label}: {reason}")
            if all(process.poll() == 0 for process, completes in mains if completes):
                return Outcome(RunStatus.SUCCEEDED)
            self._wait(1.0)

    def _wait_ready(self, port: int, process: ManagedProcess) -> str:
        give_up = time.monotonic() + self.config.readiness_timeout
        while True:
            self._raise_if_interrupted()
            code = process.poll()
            if code is not None:
                why = exit_reason(code) or "exit code 0"
                raise RunFailure(failed(why, f"the service ended ({why}) before it answered on port {port}"))
            if port_answers(port):
                return f"service ready at http://127.0.0.1:{port}"
            if time.monotonic() >= give_up:
                raise RunFailure(
                    failed(
                        "service not ready",
                        f"nothing answered on port {port} within {self.config.readiness_timeout:g}s",
                    )
                )
            self._wait(0.1)

    def _finish(self, outcome: Outcome) -> None:
        try:
            if self._logs is not None:
                verdict = outcome.status.value + (f": {outcome.reason}" if outcome.reason else "")
                if outcome.message and outcome.message != outcome.reason:
                    verdict += f" ({outcome.message})"
                self._emit(verdict)
                self._logs.close()
            self.layout.drop_uploaded_code()
            if self.layout.staged:
                self.config.store.upload_folder(self.layout.run_artifacts, self.run.uuid)
        except Exception as error:  # the run must still end, whatever the store or the disk says
            logger.exception("finishing run %s failed", self.run.uuid)
            if outcome.status == RunStatus.SUCCEEDED:
                outcome = failed("artifacts upload failed", f"{self.config.store.url}: {error}")
        finally:
            if self.config.reaper is not None:
                self.config.reaper.forget(self.run.uuid)  # its processes are all gone by now
            self.reporter.status(outcome.status, outcome.reason, outcome.message)
            self._on_finished(self, outcome)

    # -- processes ------------------------------------------------------------------------------

    def _start(self, spec: ProcessSpec, gpu_ids: list[int], *, sidecar: bool = False) -> ManagedProcess:
        env = self._base_env() | spec.env
        if self.config.machine_gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpu_ids))
        process = ManagedProcess.spawn(spec.label, spec.argv, env, spec.cwd)
        with self._lock:
            self._active.append(process)
        assert self._logs is not None
        self._logs.attach(process.stdout, spec.container, spec.replica)
        self._streams[process.pid] = (spec.container, spec.replica)
        process.watch(lambda: self._exited(process, sidecar))
        return process

    def _exited(self, process: ManagedProcess, sidecar: bool) -> None:
        if sidecar and not self._ending:
            self._emit(
                f"sidecar {process.label} ended: {exit_reason(process.popen.returncode) or 'exit code 0'}"
            )
        self._changed.set()

    def _run_command(self, argv: list[str], env: dict[str, str], cwd: str, container: str) -> int:
        spec = ProcessSpec(container=container, argv=argv, env=env, cwd=cwd)
        return self._run_to_end(self._start(spec, []))

    def _run_init_process(self, spec: ProcessSpec) -> int:
        return self._run_to_end(self._start(spec, []))

    def _run_to_end(self, process: ManagedProcess) -> int:
        while True:
            code = process.poll()
            if code is not None:
                return code
            self._raise_if_interrupted()
            self._wait(1.0)

    def _terminate_active(self, grace: float) -> None:
        with self._lock:
            active, self._active = self._active, []
        terminate(active, grace)

    def _base_env(self) -> dict[str, str]:
        """The caller's environment, with this Python first on PATH (``python`` is the user's)."""
        env = dict(os.environ)
        python_bin = os.path.dirname(sys.executable)
        path = env.get("PATH", "")
        if path.split(os.pathsep)[0] != python_bin:
            env["PATH"] = os.pathsep.join([python_bin, path]) if path else python_bin
        env.setdefault("PYTHONUNBUFFERED", "1")  # logs stream as they are written
        return env

    # -- helpers --------------------------------------------------------------------------------

    def _init_runner(self) -> InitRunner:
        assert self._logs is not None
        logs = self._logs
        return InitRunner(
            context=self.context,
            store=self.config.store,
            api_host=self.run.api_host,
            token=self.run.token,
            run_command=self._run_command,
            run_process=self._run_init_process,
            emit=logs.emit,
            redact=logs.redact,
            scratch=self.layout.scratch_dir,
        )

    def _ports(self) -> list[int]:
        count = ports_needed(self.plan)
        if self.plan.kind == RunKind.SERVICE:
            wanted = declared_port(self.plan)
            if wanted is not None and port_is_free(wanted):
                return [wanted]
        return free_ports(count)

    def _announce(self, local: LocalRun) -> None:
        if local.image_message:
            self._emit(local.image_message)
        for note in local.notes:
            self._emit(note)
        if self.config.machine_gpus and not local.gpus:
            self._emit(
                f"this machine has {self.config.machine_gpus} GPUs and the run asked for none "
                "(resources.limits nvidia.com/gpu): CUDA_VISIBLE_DEVICES is empty"
            )
        if local.service_port is not None and local.service_port != declared_port(self.plan):
            declared = declared_port(self.plan)
            if declared is not None:
                self._emit(
                    f"port {declared} is busy: the service gets port {local.service_port} (MIZZEN_PORT)"
                )

    def _emit(self, line: str) -> None:
        if self._logs is not None:
            self._logs.emit(line)

    def _interrupt(self) -> Outcome | None:
        if self._stop.is_set():
            return Outcome(RunStatus.STOPPED, "stopped by user", "stopped by user", retryable=False)
        if self._deadline is not None and time.monotonic() >= self._deadline:
            timeout = self.plan.termination.timeout
            return failed(
                f"killed: timeout after {timeout}s",
                f"the run ran past termination.timeout ({timeout}s): all its processes were killed",
                retryable=False,
            )
        return None

    def _raise_if_interrupted(self) -> None:
        interrupt = self._interrupt()
        if interrupt is not None:
            raise RunFailure(interrupt)

    def _sleep(self, seconds: float) -> Outcome | None:
        """Wait ``seconds`` unless stopped or timed out first (then how the run ends)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._wait(left)
            interrupt = self._interrupt()
            if interrupt is not None:
                return interrupt
        return None

    def _wait(self, seconds: float) -> bool:
        """Sleep until something happens (a process ends, stop) or ``seconds`` or the deadline pass."""
        if self._deadline is not None:
            seconds = max(0.0, min(seconds, self._deadline - time.monotonic()))
        woken = self._changed.wait(seconds)
        self._changed.clear()
        return woken or self._interrupt() is not None
