"""Helpers for the Kubernetes executor tests: an adapter that schema-checks what it sends, plans with
images, and bounded waits on the double (polling a condition, never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.executors.support import container, make_plan

import k8s_schema
from k8s_double import K8sDouble
from mizzen.compiler.plan import (
    ContainerPlan,
    DistributedPlan,
    Plan,
    PodPlan,
    ReplicaPlan,
    Resources,
    RunKind,
    ServicePlan,
    TerminationPlan,
)
from mizzen.executors.kubernetes import KubeAdapter

NS = "default"
IMAGE = "python:3.12-slim"
T = TypeVar("T")


class CheckingAdapter(KubeAdapter):
    """Every object the executor creates must pass the strict offline schema check first."""

    def __init__(self, api_client: Any, **options: Any) -> None:
        super().__init__(api_client, **options)
        self.sent: list[dict[str, Any]] = []

    def create(self, obj: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        k8s_schema.assert_valid(obj)
        self.sent.append(obj)
        return super().create(obj)


def eventually(check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy (bounded); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)


def job_plan(
    command: list[str] | None = None, *, termination: TerminationPlan | None = None, memory: str | None = None
) -> Plan:
    main = container(command or ["python", "-c", "print('hi')"], image=IMAGE)
    if memory:
        main = main.model_copy(update={"resources": Resources(limits={"memory": memory})})
    return make_plan(main=main, termination=termination)


def gpu_plan() -> Plan:
    return make_plan(main=container(["python", "train.py"], image=IMAGE, gpus=4))


def service_plan(port: int = 8080, replicas: int = 1) -> Plan:
    main = container(["python", "-m", "http.server", str(port)], image=IMAGE)
    return make_plan(kind=RunKind.SERVICE, main=main, service=ServicePlan(ports=[port], replicas=replicas))


def pytorch_plan(workers: int = 2, termination: TerminationPlan | None = None) -> Plan:
    def role(name: str, count: int) -> ReplicaPlan:
        main = ContainerPlan(name="main", image=IMAGE, command=["torchrun", "train.py"])
        return ReplicaPlan(role=name, replicas=count, pod=PodPlan(main=main))

    return Plan(
        kind=RunKind.PYTORCHJOB,
        name="dist",
        replicas=[role("master", 1), role("worker", workers)],
        termination=termination or TerminationPlan(),
        distributed=DistributedPlan(),
    )


def pods_of(
    double: K8sDouble, kind: str, name: str, count: int = 1, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The pods the controller made for an object, once there are ``count`` of them."""
    return eventually(
        lambda: pods if len(pods := double.pods_of(NS, kind, name)) >= count else None,
        timeout,
        f"{count} pods of {kind} {name}",
    )


def pod_names(double: K8sDouble, kind: str, name: str, count: int = 1) -> list[str]:
    return [pod["metadata"]["name"] for pod in pods_of(double, kind, name, count)]


def assert_transitions_valid(statuses: list[Any]) -> None:
    """Every reported status may follow the one before it (the store's status machine would accept it)."""
    from mizzen.schemas.statuses import RunStatus
    from mizzen.schemas.transitions import can_transition

    current = RunStatus.CREATED
    for status in statuses:
        assert can_transition(current, status), f"{current} -> {status} in {statuses}"
        current = status


def ray_plan(workers: int = 1) -> Plan:
    def role(name: str, count: int) -> ReplicaPlan:
        main = ContainerPlan(name="main", image="rayproject/ray:2.9.0", command=["ray", "start"])
        return ReplicaPlan(role=name, replicas=count, pod=PodPlan(main=main))

    return Plan(kind=RunKind.RAYCLUSTER, name="ray", replicas=[role("head", 1), role("worker", workers)])


def dask_plan(with_job: bool = True) -> Plan:
    def role(name: str) -> ReplicaPlan:
        main = ContainerPlan(name="main", image="ghcr.io/dask/dask:2024.1.0", command=["dask", name])
        return ReplicaPlan(role=name, pod=PodPlan(main=main))

    roles = ["scheduler", "worker"] + (["job"] if with_job else [])
    return Plan(kind=RunKind.DASKCLUSTER, name="dask", replicas=[role(name) for name in roles])


def run_pods(double: K8sDouble, uuid: str, count: int) -> list[str]:
    """Names of the run's pods (named ``mzn-<kind>-<uuid[:12]>...``), once there are ``count``."""

    def found() -> list[str] | None:
        names = [p["metadata"]["name"] for p in double.list("v1", "Pod", NS)]
        mine = [name for name in names if name.split("-")[2:3] == [uuid[:12]]]
        return mine if len(mine) >= count else None

    return eventually(found, what=f"{count} pods of run {uuid}")
