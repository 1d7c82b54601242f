"""Pytest fixtures that build Kubernetes executors on the API double (importable by other suites)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.executors.kubernetes.kubelet import ProcessKubelet
from tests.executors.kubernetes.support import NS, CheckingAdapter
from tests.executors.support import Recorder

from k8s_double import K8sDouble
from mizzen.executors.kubernetes import KubernetesExecutor, RetryPolicy, Timeouts

MakeKube = Callable[..., KubernetesExecutor]
FAST_RETRIES = RetryPolicy(attempts=4, base=0.01, maximum=0.05)


@pytest.fixture
def make_kube(k8s_double: K8sDouble, k8s_kubeconfig: Path, recorder: Recorder) -> Iterator[MakeKube]:
    """Build executors on the double, through a kubeconfig and the official client, closed at the end.

    Options: any KubernetesExecutor keyword, plus ``sleep`` (the adapter's sleep, to record waits).
    """
    made: list[KubernetesExecutor] = []

    def make(**options: Any) -> KubernetesExecutor:
        adapter_options: dict[str, Any] = {"retry": options.pop("retry", FAST_RETRIES)}
        if "sleep" in options:
            adapter_options["sleep"] = options.pop("sleep")
        options.setdefault("adapter", CheckingAdapter.from_kubeconfig(str(k8s_kubeconfig), **adapter_options))
        options.setdefault("namespace", NS)
        options.setdefault("api_host", "http://mizzen-api.mizzen.svc:8000")
        options.setdefault("tick_interval", 0.05)
        options.setdefault("log_flush_interval", 0.05)
        options.setdefault("timeouts", Timeouts(image_pull=300.0, stop=10.0, log_join=2.0))
        events = options.pop("events", recorder)
        executor = KubernetesExecutor(events, **options)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.close(grace_seconds=1)


@pytest.fixture
def kube(make_kube: MakeKube) -> KubernetesExecutor:
    return make_kube()


@pytest.fixture
def kube_on_processes(make_kube: MakeKube, k8s_double: K8sDouble) -> Iterator[KubernetesExecutor]:
    """An executor on the double whose pods really run (as local processes): the shared contract."""
    kubelet = ProcessKubelet(k8s_double).start()
    try:
        yield make_kube(default_image="busybox:1.36")
    finally:
        kubelet.stop()
