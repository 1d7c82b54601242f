"""Helpers of the opt-in suite against a real cluster: its settings, kubectl, the API served where
pods can reach it, and `mizzen agent` / the CLI as subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.agent.support import RestartableApi, eventually

from mizzen.client import MizzenClient
from mizzen.schemas.api import RunRead
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

MIZZEN = str(Path(sys.executable).parent / "mizzen")
POLL_SECONDS = 1.0  # for `eventually`: each check asks kubectl or the API, a real cluster's pace


@dataclass(frozen=True)
class E2eConfig:
    """``MIZZEN_E2E_*`` variables (only the kubeconfig is required)."""

    kubeconfig: Path
    image: str  # Mizzen's image, for runs' init and sidecar containers
    namespace: str | None  # None: a fresh namespace per session, deleted at the end
    bind: str  # where the test API listens
    runs_host: str | None  # how pods reach the test API (default http://<this machine's IP>:<port>)
    git_url: str
    moto_image: str
    timeout: float

    @classmethod
    def from_env(cls) -> E2eConfig:
        kubeconfig = os.environ.get("MIZZEN_E2E_KUBECONFIG")
        if not kubeconfig:
            raise RuntimeError(
                "set MIZZEN_E2E_KUBECONFIG=PATH to a cluster's kubeconfig (see tests/e2e/README.md)"
            )
        return cls(
            kubeconfig=Path(kubeconfig).expanduser(),
            image=os.environ.get("MIZZEN_E2E_IMAGE", "mizzen/mizzen:0.1.0"),
            namespace=os.environ.get("MIZZEN_E2E_NAMESPACE") or None,
            bind=os.environ.get("MIZZEN_E2E_BIND", "0.0.0.0"),
            runs_host=os.environ.get("MIZZEN_E2E_RUNS_HOST") or None,
            git_url=os.environ.get("MIZZEN_E2E_GIT_URL", "https://github.com/polyaxon/polyaxon-quick-start"),
            moto_image=os.environ.get("MIZZEN_E2E_MOTO_IMAGE", "motoserver/moto:5.0.28"),
            timeout=float(os.environ.get("MIZZEN_E2E_TIMEOUT", "600")),
        )


def local_ip() -> str:
    """This machine's address on its default route (what a pod can usually reach)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        return str(probe.getsockname()[0])


@dataclass
class Kubectl:
    kubeconfig: Path
    namespace: str

    def run(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), "-n", self.namespace, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def apply(self, manifest: dict[str, Any]) -> None:
        self.run("apply", "-f", "-", input=json.dumps(manifest))

    def items(self, kind: str, selector: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.json("get", kind, "-l", selector)["items"]
        return found


@dataclass
class E2eInstallation:
    config: E2eConfig
    kubectl: Kubectl
    api: RestartableApi
    root: Path
    agent_env: dict[str, str]
    user_env: dict[str, str]
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.kubectl.namespace

    def start_agent(self) -> subprocess.Popen[bytes]:
        log = (self.root / f"agent-{len(self.agents)}.log").open("wb")
        command = [
            MIZZEN, "agent", "--namespace", self.namespace,
            "--kubeconfig", str(self.config.kubeconfig), "--host", self.api.url,
        ]  # fmt: skip
        process = subprocess.Popen(command, env=self.agent_env, stdout=log, stderr=log)
        self.agents.append(process)
        return process

    def agent_log(self, index: int = -1) -> str:
        return (self.root / f"agent-{index % len(self.agents)}.log").read_text(errors="replace")

    def mizzen(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, *args],
            env=self.user_env,
            capture_output=True,
            text=True,
            timeout=timeout or self.config.timeout,
            check=False,
        )

    def run(self, uuid: str) -> RunRead:
        with MizzenClient(self.api.url) as client:
            return client.runs.get(uuid)

    def wait_status(self, uuid: str, status: RunStatus) -> RunRead:
        def reached() -> RunRead | None:
            run = self.run(uuid)
            if run.status in DONE_STATUSES and run.status != status:
                raise AssertionError(f"run {uuid} ended {run.status}, not {status}: {run.conditions}")
            return run if run.status == status else None

        return eventually(reached, f"run {uuid} {status}", self.config.timeout, POLL_SECONDS)

    def log_lines(self, uuid: str) -> list[str]:
        done = self.mizzen("ops", "logs", uuid, "--json")
        assert done.returncode == 0, done.stderr
        return [line["line"] for line in json.loads(done.stdout)]
