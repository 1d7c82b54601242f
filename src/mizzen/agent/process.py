"""``Agent``: the Kubernetes executor under a ``RunScheduler`` fed by the API, plus heartbeats.

    agent = Agent(settings, AgentConfig(name="ml", namespace="ml", host="http://mizzen:8000"))
    agent.run()          # until agent.stop() (SIGTERM / Ctrl-C in `mizzen agent`)

Start: check which operators' CRDs the cluster has (runs of a kind without one fail with the
operator to install), wait for the API, adopt the runs this agent owns, heartbeat, then claim.
Stop: stop claiming and watching, deliver what is buffered, exit. Runs keep running in the cluster:
the next agent of the same name adopts them (names are deterministic: nothing is created twice).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from mizzen import __version__
from mizzen.agent.adoption import Adopter
from mizzen.agent.options import AgentConfig, render_options
from mizzen.client import MizzenClient
from mizzen.connections_catalog import load_home_connections
from mizzen.errors import ApiError, MizzenError
from mizzen.executors.kubernetes import KubernetesExecutor
from mizzen.scheduler.api_source import ApiRunSource
from mizzen.scheduler.compile_run import run_compiler
from mizzen.scheduler.loop import RunScheduler
from mizzen.settings import Settings

log = logging.getLogger("mizzen.agent")

EXECUTOR = "kubernetes"
API_WAIT_SECONDS = 2.0


class Agent:
    def __init__(self, settings: Settings, config: AgentConfig, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.client = MizzenClient(config.host, token=config.token)
        self.source = ApiRunSource(self.client, config.name, executor=EXECUTOR, queue=config.queue)
        connections = load_home_connections(settings.home)
        self.compile_run = run_compiler(settings, connections)
        self.scheduler = RunScheduler(
            self.source,
            self.compile_run,
            api_host=config.api_host_for_runs,
            owner=config.name,
            poll_interval=config.poll_interval,
            busy_interval=config.busy_poll_interval,
            busy_seconds=config.busy_seconds,
        )
        self.executor: KubernetesExecutor | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._api_reachable = True

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> bool:
        """Connect, adopt, start claiming; False when stopped before the API answered."""
        executor = KubernetesExecutor(
            self.scheduler,
            namespace=self.config.namespace,
            kubeconfig=self.config.kubeconfig,
            kube_context=self.config.kube_context,
            in_cluster=self.config.in_cluster,
            render_options=render_options(self.settings, self.env, self.config.namespace),
            api_host=self.config.api_host_for_runs,
        )
        self.executor = executor
        self.scheduler.attach(executor)
        self._check_operators(executor)
        if not self._wait_for_api():
            return False
        adopter = Adopter(self.source, executor, self.compile_run, self.config.api_host_for_runs)
        adopter.adopt_all()
        self.heartbeat()
        self._heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="mizzen-agent-heartbeat", daemon=True
        )
        self._heartbeat.start()
        self.scheduler.start()
        log.info(
            "agent %s: claiming %s runs for namespace %s from %s",
            self.config.name,
            f"queue '{self.config.queue}'" if self.config.queue else "every queue's",
            self.config.namespace,
            self.config.host,
        )
        return True

    def run(self) -> None:
        """Start, then serve until ``stop()``; always closes."""
        try:
            if self.start():
                self._stop.wait()
        finally:
            self.close()

    def stop(self) -> None:
        self._stop.set()
        self.scheduler.wake()

    def close(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming and watching (runs go on in the cluster), deliver buffered reports."""
        self._stop.set()
        if self.executor is not None:
            self.scheduler.close(grace_seconds)  # closes the executor: its watches end, runs stay
        self.source.close(timeout=grace_seconds)
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        self.client.close()

    # -- start-up checks ----------------------------------------------------------------------------

    def _check_operators(self, executor: KubernetesExecutor) -> None:
        try:
            missing = executor.check_operators()
        except MizzenError as error:
            raise MizzenError(
                f"cannot reach the Kubernetes API for namespace {self.config.namespace}: {error}"
            ) from None
        for kind, why in sorted((kind.value, why) for kind, why in missing.items()):
            log.warning("%s runs cannot run here: %s", kind, why)

    def _wait_for_api(self) -> bool:
        while not self._stop.is_set():
            try:
                self.client.health()
                return True
            except ApiError as error:
                if self._api_reachable:
                    log.warning("waiting for the Mizzen API: %s", error)
                self._api_reachable = False
            self._stop.wait(API_WAIT_SECONDS)
        return False

    # -- presence -----------------------------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        assert self.executor is not None
        capabilities = self.executor.capabilities
        return {
            "kinds": sorted(kind.value for kind in capabilities.kinds),
            "missing_operators": dict(capabilities.notes),
            "services": capabilities.services,
            "distributed": capabilities.distributed,
        }

    def heartbeat(self) -> None:
        try:
            self.client.agents.heartbeat(
                self.config.name,
                namespace=self.config.namespace,
                queue=self.config.queue,
                version=__version__,
                capabilities=self.capabilities(),
            )
        except ApiError as error:
            log.debug("heartbeat not delivered: %s", error)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.config.heartbeat_interval):
            self.heartbeat()
