"""A whole Mizzen-on-Kubernetes installation for end-to-end tests, without a cluster.

``Installation`` is the real API server (``MIZZEN_EXECUTOR=kubernetes``: it runs nothing itself),
``mizzen agent`` as a real subprocess talking to the Kubernetes API test double through a kubeconfig,
and the CLI (``mizzen run``, ``mizzen ops ...``) as subprocesses with ``MIZZEN_HOST`` set, as a user
would run them. The test plays the cluster: it drives pod phases and writes container logs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tests.agent.forked_agents import AgentZygote, ForkedProcess
from tests.agent.support import RestartableApi, eventually

from k8s_double import K8sDouble
from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

MIZZEN = str(Path(sys.executable).parent / "mizzen")
NS = "default"


@dataclass
class AgentProcess:
    process: subprocess.Popen[bytes] | ForkedProcess
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no chance to clean up (a node lost, an OOM kill of the agent)."""
        self.process.kill()
        self.process.wait(30)

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


@dataclass
class Installation:
    double: K8sDouble
    kubeconfig: Path
    api: RestartableApi
    root: Path
    agent_env: dict[str, str] = field(default_factory=dict)
    user_env: dict[str, str] = field(default_factory=dict)
    agents: list[AgentProcess] = field(default_factory=list)
    zygote: AgentZygote | None = None  # set: agents are forked from it (cheap restarts)
    s3: Any = None  # tests.executors.support.S3Server
    data_bucket: str = ""  # the bucket of the connection `data`

    @property
    def url(self) -> str:
        return self.api.url

    def client(self) -> MizzenClient:
        return MizzenClient(self.url)

    # -- the agent ---------------------------------------------------------------------------------

    def start_agent(self, *extra: str, name: str | None = None) -> AgentProcess:
        log_path = self.root / f"agent-{len(self.agents)}.log"
        command = [
            MIZZEN,
            "agent",
            "--namespace",
            NS,
            "--kubeconfig",
            str(self.kubeconfig),
            "--host",
            self.url,
        ]
        if name:
            command += ["--name", name]
        process: subprocess.Popen[bytes] | ForkedProcess
        log_path.touch()
        if self.zygote is not None:
            process = self.zygote.spawn([*command[1:], *extra], log_path)
        else:
            with log_path.open("wb") as log:
                process = subprocess.Popen([*command, *extra], env=self.agent_env, stdout=log, stderr=log)
        agent = AgentProcess(process, log_path)
        self.agents.append(agent)
        eventually(lambda: "claiming" in agent.output() or process.poll() is not None, "the agent started")
        assert process.poll() is None, agent.output()
        return agent

    def stop_agents(self) -> None:
        for agent in self.agents:
            if agent.process.poll() is None:
                agent.terminate()

    # -- the user's CLI ----------------------------------------------------------------------------

    def mizzen(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, *args], env=self.user_env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def mizzen_background(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [MIZZEN, *args], env=self.user_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def write_polyaxonfile(self, name: str, content: dict[str, Any]) -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(content, sort_keys=False))
        return path

    # -- the store, through the API ----------------------------------------------------------------

    def run(self, uuid: str) -> RunRead:
        with self.client() as client:
            return client.runs.get(uuid)

    def wait_status(self, uuid: str, status: RunStatus, timeout: float = 60) -> RunRead:
        def reached() -> RunRead | None:
            run = self.run(uuid)
            if run.status in DONE_STATUSES and run.status != status:
                raise AssertionError(f"run {uuid} ended {run.status}, not {status}: {run.conditions}")
            return run if run.status == status else None

        return eventually(reached, f"run {uuid} {status}", timeout)

    def statuses(self, uuid: str) -> list[RunStatus]:
        with self.client() as client:
            return [condition.type for condition in client.statuses.list(uuid)]

    def latest_run(self, project: str) -> RunRead:
        with self.client() as client:
            page = client.runs.list(project=project, sort="-created_at", limit=1)
        assert page.items, f"no run in project {project}"
        return page.items[0]

    # -- the cluster -------------------------------------------------------------------------------

    def object(self, api_version: str, kind: str, name: str, timeout: float = 60) -> dict[str, Any]:
        def created() -> dict[str, Any] | None:
            return self.double.get(api_version, kind, name, NS)

        return eventually(created, f"{kind} {name} created ({self._runs_summary()})", timeout)

    def _runs_summary(self) -> str:
        """What the store says, for failure messages."""
        with self.client() as client:
            runs = client.runs.list(limit=20).items
            return "; ".join(f"{r.uuid[:8]} {r.status}: {client.statuses.list(r.uuid)[-1]}" for r in runs)

    def pods(self, kind: str, name: str, count: int = 1) -> list[str]:
        """The names of the pods the controllers made for an object, once there are ``count``."""

        def found() -> list[str] | None:
            pods = [
                p for p in self.double.pods_of(NS, kind, name) if "deletionTimestamp" not in p["metadata"]
            ]
            names = sorted(p["metadata"]["name"] for p in pods)
            return names if len(names) >= count else None

        return eventually(found, f"{count} pods of {kind} {name}")

    def count(self, api_version: str, kind: str, label_selector: str | None = None) -> int:
        return len(self.double.list(api_version, kind, NS, label_selector=label_selector))


def agent_environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    return {**env, "MIZZEN_HOME": str(home), "PYTHONUNBUFFERED": "1", **(extra or {})}
