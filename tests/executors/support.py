"""Helpers for executor tests: hand-made Plans, a recording events sink, an S3 server handle."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid as uuid_lib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mizzen.compiler.plan import (
    ConnectionPlan,
    ContainerPlan,
    EnvVar,
    InitStep,
    Plan,
    PodPlan,
    ReplicaPlan,
    Resources,
    RunKind,
    ServicePlan,
    TerminationPlan,
)
from mizzen.executors.base import RunRef
from mizzen.executors.local import LocalExecutor
from mizzen.schemas.api import LogLine
from mizzen.schemas.statuses import RunStatus

PYTHON = sys.executable


@dataclass(frozen=True)
class StatusEvent:
    uuid: str
    status: RunStatus
    reason: str | None
    message: str | None


class Recorder:
    """An ExecutorEvents sink that remembers everything, in order."""

    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.log_batches: list[tuple[str, list[LogLine]]] = []
        self._cond = threading.Condition()

    def on_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        with self._cond:
            self.events.append(StatusEvent(uuid, status, reason, message))
            self._cond.notify_all()

    def on_logs(self, uuid: str, lines: list[LogLine]) -> None:
        with self._cond:
            self.log_batches.append((uuid, list(lines)))
            self._cond.notify_all()

    def statuses(self, uuid: str) -> list[RunStatus]:
        with self._cond:
            return [e.status for e in self.events if e.uuid == uuid]

    def last(self, uuid: str) -> StatusEvent:
        with self._cond:
            return [e for e in self.events if e.uuid == uuid][-1]

    def event(self, uuid: str, status: RunStatus) -> StatusEvent:
        with self._cond:
            return next(e for e in self.events if e.uuid == uuid and e.status == status)

    def lines(self, uuid: str, container: str | None = None) -> list[str]:
        with self._cond:
            return [
                line.line
                for run, batch in self.log_batches
                if run == uuid
                for line in batch
                if container is None or line.container == container
            ]

    def log_lines(self, uuid: str) -> list[LogLine]:
        with self._cond:
            return [line for run, batch in self.log_batches if run == uuid for line in batch]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"condition not met within {timeout}s; events: {self.events}")
                self._cond.wait(min(left, 0.2))

    def wait_status(self, uuid: str, status: RunStatus, timeout: float = 30.0) -> StatusEvent:
        self.wait_for(lambda: status in [e.status for e in self.events if e.uuid == uuid], timeout)
        return self.event(uuid, status)


def container(
    command: list[str],
    *,
    name: str = "main",
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    env_vars: list[EnvVar] | None = None,
    working_dir: str | None = None,
    gpus: int = 0,
    image: str | None = None,
    **extra: Any,
) -> ContainerPlan:
    return ContainerPlan(
        name=name,
        image=image,
        command=command,
        args=args or [],
        env=[EnvVar(name=k, value=v) for k, v in (env or {}).items()] + list(env_vars or []),
        working_dir=working_dir,
        resources=Resources(limits={"nvidia.com/gpu": str(gpus)} if gpus else {}),
        **extra,
    )


def make_plan(
    command: list[str] | None = None,
    *,
    kind: RunKind = RunKind.JOB,
    main: ContainerPlan | None = None,
    init: list[InitStep] | None = None,
    sidecars: list[ContainerPlan] | None = None,
    connections: list[ConnectionPlan] | None = None,
    pod_connections: list[str] | None = None,
    termination: TerminationPlan | None = None,
    service: ServicePlan | None = None,
    replicas: list[ReplicaPlan] | None = None,
) -> Plan:
    if replicas is None:
        pod = PodPlan(
            init=init or [],
            main=main or container(command or ["true"]),
            sidecars=sidecars or [],
            connections=pod_connections or [],
        )
        replicas = [ReplicaPlan(role="main", pod=pod)]
    return Plan(
        kind=kind,
        name="test",
        connections=connections or [],
        replicas=replicas,
        termination=termination or TerminationPlan(),
        service=service,
    )


def new_run(**fields: Any) -> RunRef:
    fields.setdefault("uuid", uuid_lib.uuid4().hex)
    fields.setdefault("project", "tests")
    fields.setdefault("name", "a-run")
    return RunRef(**fields)


MakeExecutor = Callable[..., LocalExecutor]


def run_to_end(executor: LocalExecutor, plan: Plan, run: RunRef | None = None, timeout: float = 60) -> RunRef:
    run = run or new_run()
    executor.submit(run, plan)
    final = executor.wait(run.uuid, timeout)
    assert final is not None, f"run did not end within {timeout}s"
    return run


def pid_gone(pid: int) -> bool:
    """Dead, or a zombie nobody reaps yet (it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return state[state.rfind(")") + 2] in "ZX"


# -- a real S3 server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    options: dict[str, Any]
    env: dict[str, str]

    def make_bucket(self) -> str:
        import boto3

        name = f"b-{uuid_lib.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)
        return name

    def filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False, **self.options)


@contextlib.contextmanager
def moto_server(log_dir: Path) -> Iterator[S3Server]:
    """A real S3-compatible server (moto's server mode) on a free port, its log in ``log_dir``."""
    moto = shutil.which("moto_server", path=os.path.dirname(PYTHON)) or shutil.which("moto_server")
    assert moto, "moto_server (moto[server]) is a dev dependency and must be installed"
    port = free_port()
    log = (log_dir / "moto.log").open("w")
    process = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert process.poll() is None, "moto_server exited"
            assert time.monotonic() < deadline, "moto_server did not start within 30s"
            time.sleep(0.1)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
    }
    options = {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": endpoint,
        "client_kwargs": {"region_name": "us-east-1"},
    }
    try:
        yield S3Server(endpoint, options, env)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
