"""The API served inside this process, optionally with the local executor and its scheduler.

``mizzen run`` (no server configured) and every read command in embedded mode start one on
127.0.0.1 with an ephemeral port and talk to it over HTTP, exactly as they would to a remote
server; ``mizzen server`` runs the same thing in the foreground on a fixed address.
"""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType
from typing import Any

import uvicorn

from mizzen.connections_catalog import load_home_connections
from mizzen.errors import MizzenError
from mizzen.scheduler.compile_run import pipeline_compiler, run_compiler
from mizzen.scheduler.hooks.loop import HookLoop
from mizzen.scheduler.loop import RunScheduler
from mizzen.scheduler.pipeline.driver import PipelineDriver
from mizzen.scheduler.queues import queue_policy
from mizzen.scheduler.scope import ClaimScope
from mizzen.scheduler.store_source import StoreRunSource
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.server.app import create_app
from mizzen.server.services.events import RunEvent
from mizzen.settings import Settings

log = logging.getLogger(__name__)

# The pipeline driver's pace between events: it looks for pipelines created by other processes
# once per poll, for those of dead drivers every ADOPT_EVERY_SECONDS, and writes a pipeline's progress
# (what `mizzen run --watch` and the UI show) at most every PROGRESS_EVERY_SECONDS.
DRIVER_POLL_SECONDS = 0.5
ADOPT_EVERY_SECONDS = 2.0
PROGRESS_EVERY_SECONDS = 1.0

LOCAL_EXECUTOR = "local"
HOOKS_DRAIN_SECONDS = 60.0  # how long closing waits for hook deliveries under way (retries included)


class EmbeddedServer:
    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        run_executor: bool = True,
        drive_pipelines: bool | None = None,
        adopt_pipelines: bool = False,
        scoped: bool | None = None,
        log_level: str = "warning",
        hooks_drain_seconds: float | None = None,
    ) -> None:
        self.settings = settings
        self.hooks_drain_seconds = HOOKS_DRAIN_SECONDS if hooks_drain_seconds is None else hooks_drain_seconds
        self.host = host
        self.port = port
        self.run_executor = run_executor and settings.executor == LOCAL_EXECUTOR
        # Sweeps, DAGs and schedules are driven wherever runs are started (`mizzen run`, `mizzen
        # server`), whichever executor runs their children; a server also takes over the pipelines
        # of a driver that died.
        self.drive_pipelines = run_executor if drive_pipelines is None else drive_pipelines
        self.adopt_pipelines = adopt_pipelines
        # `mizzen run` runs what it started, never another command's runs (`mizzen server` runs all).
        self.scope = ClaimScope() if (not adopt_pipelines if scoped is None else scoped) else None
        self.driver: PipelineDriver | None = None
        self.hooks: HookLoop | None = None
        self.log_level = log_level
        self.scheduler: RunScheduler | None = None
        self.source: StoreRunSource | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> str:
        """Serve the API in a background thread; returns its base URL once it answers."""
        self.app = create_app(self.settings)
        self._socket = _bind(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level=self.log_level, lifespan="on", timeout_graceful_shutdown=3, access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="mizzen-api", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise MizzenError(f"the embedded API could not start on {self.url}")
            self._thread.join(0.01)
        source = self.source = self._run_source()
        # Every command that opens the store (`ops ls` too) tells what a killed `mizzen run` left.
        orphans = source.fail_orphans(
            LOCAL_EXECUTOR, reap=_kill_leftovers, keep_pipelines=self.adopt_pipelines
        )
        if orphans:
            count = f"{len(orphans)} run{'s' if len(orphans) != 1 else ''}"
            log.warning("marked %s failed: the process that ran them is gone", count)
        if self.run_executor:
            self._start_scheduler(source)
        if self.drive_pipelines:
            self._start_driver()
            self._start_hooks()
        return self.url

    def _serve(self) -> None:
        assert self._server is not None and self._socket is not None
        self._server.run(sockets=[self._socket])

    def _run_source(self) -> StoreRunSource:
        services = self.app.state.services

        def publish(uuid: str, project: str, status: RunStatus, previous: RunStatus | None) -> None:
            services.events.publish(RunEvent("status_changed", uuid, project, status, previous))

        if self.scope is not None:
            scope = self.scope

            def widen(event: RunEvent) -> None:
                started = event.kind == "created" or (
                    event.status == RunStatus.QUEUED and event.previous in DONE_STATUSES
                )
                if started and event.pipeline_uuid is None:  # made or resumed through this API
                    scope.add_root(event.run_uuid)

            services.events.subscribe(widen)
        admit = queue_policy(self.settings.queues)
        join_compiler = pipeline_compiler(self.settings, load_home_connections(self.settings.home))
        return StoreRunSource(
            services.database,
            services.logs.append,
            publish,
            scope=self.scope,
            admit=admit,
            join_compiler=join_compiler,
        )

    def _start_scheduler(self, source: StoreRunSource) -> None:
        from mizzen.executors.local import LocalExecutor

        services = self.app.state.services
        connections = load_home_connections(self.settings.home)
        scheduler = RunScheduler(source, run_compiler(self.settings, connections), api_host=self.url)
        executor = LocalExecutor.from_settings(self.settings, scheduler)
        scheduler.attach(executor)

        def wake(event: RunEvent) -> None:
            if event.kind in ("created", "stop_requested") or event.status == RunStatus.QUEUED:
                scheduler.wake()

        services.events.subscribe(wake)
        scheduler.start()
        self.scheduler = scheduler

    def _start_driver(self) -> None:
        services = self.app.state.services
        connections = load_home_connections(self.settings.home)

        def notify(
            kind: str,
            uuid: str,
            project: str,
            status: RunStatus,
            previous: RunStatus | None,
            pipeline_uuid: str | None,
        ) -> None:
            event = RunEvent(kind, uuid, project, status, previous, pipeline_uuid)  # type: ignore[arg-type]
            services.events.publish(event)

        driver = PipelineDriver(
            services.database,
            pipeline_compiler(self.settings, connections),
            executor=self.settings.executor,
            notify=notify,
            adopt_orphans=self.adopt_pipelines,
            scope=self.scope,
            claim_every=DRIVER_POLL_SECONDS,
            adopt_every=ADOPT_EVERY_SECONDS,
            progress_every=PROGRESS_EVERY_SECONDS,
        )

        def wake(event: RunEvent) -> None:
            # A run made or approved through this API, or resumed (done -> queued), may be a pipeline
            # to claim at once rather than at the next poll. The driver's own children (pipeline_uuid)
            # are not: it notes itself when one of them is a pipeline.
            made = event.kind == "created" and event.pipeline_uuid is None
            resumed = event.status == RunStatus.QUEUED and event.previous in DONE_STATUSES
            if made or resumed:
                driver.claim_soon()
            elif event.kind == "stop_requested" or event.status in DONE_STATUSES:
                driver.wake()

        services.events.subscribe(wake)
        driver.start()
        self.driver = driver

    def _start_hooks(self) -> None:
        """Hooks fire beside the pipeline driver, from the store, whichever executor ran the run."""
        services = self.app.state.services
        connections = load_home_connections(self.settings.home)

        def created(run: Any) -> None:
            services.events.publish(RunEvent("created", run.uuid, run.project, run.status, None))

        hooks = HookLoop(
            services.database,
            pipeline_compiler(self.settings, connections),
            executor=self.settings.executor,
            on_created=created,
            api_url=self.url,
        )

        def wake(event: RunEvent) -> None:
            if event.status in DONE_STATUSES:
                hooks.wake()

        services.events.subscribe(wake)
        hooks.start()
        self.hooks = hooks

    def serve_forever(self) -> None:
        """Block until interrupted (Ctrl-C / SIGTERM), then shut down cleanly."""
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.close()

    def close(self, grace_seconds: float = 10.0) -> None:
        """Deliver the hooks under way (up to ``hooks_drain_seconds``), stop the runs still active (they
        end ``stopped``), then the API."""
        if self.hooks is not None:
            if not self.hooks.drain(self.hooks_drain_seconds):
                log.warning("hooks still under way: the next `mizzen run` or `mizzen server` delivers them")
            self.hooks.close()
            self.hooks = None
        released: list[Any] = []
        driver, self.driver = self.driver, None
        if driver is not None:
            driver.close()
            if self.scheduler is not None:  # its runs end with this process: so do its pipelines
                released = driver.release()
        if self.scheduler is not None:
            self.scheduler.close(grace_seconds)
            self.scheduler = None
        if driver is not None and released:
            driver.end_released(released)
        if self.source is not None:
            self.source.close()  # the last statuses are stored before the database closes
            self.source = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.app is not None:
            self.app.state.services.close()
            self.app = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _kill_leftovers(uuid: str) -> int:
    from mizzen.executors.local.processes import kill_leftovers  # only when there are orphans

    return kill_leftovers(uuid)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, small responses wait ~40 ms for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise MizzenError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock
