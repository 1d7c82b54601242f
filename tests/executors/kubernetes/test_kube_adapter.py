"""The adapter over the official client, against the API double over HTTP."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from k8s_double import K8sDouble
from mizzen.errors import ExecutorError
from mizzen.executors.kubernetes import ApiFailure, KubeAdapter, RetryPolicy, WatchExpired
from mizzen.executors.kubernetes.logs import parse_line
from mizzen.executors.kubernetes.resources import CONFIG_MAP, JOB, POD

NS = "default"


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def adapter(k8s_kubeconfig: Path, waits: list[float]) -> Any:
    made = KubeAdapter.from_kubeconfig(
        str(k8s_kubeconfig), retry=RetryPolicy(attempts=4, base=0.01), sleep=waits.append
    )
    yield made
    made.close()


def _config_map(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
    }


def _job(name: str) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["true"]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }


def test_create_twice_returns_the_existing_object(adapter: KubeAdapter) -> None:
    created, fresh = adapter.create(_config_map("a", team="x"))
    again, second = adapter.create(_config_map("a", team="y"))
    assert fresh and not second
    assert again["metadata"]["uid"] == created["metadata"]["uid"]
    assert again["metadata"]["labels"] == {"team": "x"}  # the existing one, untouched


def test_get_list_and_delete(adapter: KubeAdapter, k8s_double: K8sDouble) -> None:
    assert adapter.get(CONFIG_MAP, "missing", NS) is None
    for index in range(7):
        adapter.create(_config_map(f"cm-{index}", app="mine"))
    items, version = adapter.list(CONFIG_MAP, NS, label_selector="app=mine", page_size=3)
    assert sorted(item["metadata"]["name"] for item in items) == [f"cm-{i}" for i in range(7)]
    assert int(version) >= max(int(item["metadata"]["resourceVersion"]) for item in items)
    assert adapter.delete(CONFIG_MAP, "cm-0", NS) is True
    assert adapter.delete(CONFIG_MAP, "cm-0", NS) is False  # already gone


def test_delete_with_foreground_propagation_takes_the_pods_along(
    adapter: KubeAdapter, k8s_double: K8sDouble
) -> None:
    adapter.create(_job("j"))
    assert len(k8s_double.pods_of(NS, "Job", "j")) == 1
    assert adapter.delete(JOB, "j", NS, propagation="Foreground")
    assert any(
        "propagationPolicy=Foreground" in path for method, path in k8s_double.requests if method == "DELETE"
    )
    assert k8s_double.get("batch/v1", "Job", "j", NS) is None
    assert k8s_double.pods_of(NS, "Job", "j") == []


def test_watch_resumes_from_a_version_and_sees_bookmarks(adapter: KubeAdapter, k8s_double: K8sDouble) -> None:
    _, version = adapter.list(CONFIG_MAP, NS)
    adapter.create(_config_map("w"))
    k8s_double.patch("v1", "ConfigMap", "w", {"data": {"k": "v"}}, NS)
    seen: list[tuple[str, str]] = []
    for event in adapter.watch(CONFIG_MAP, NS, version, timeout_seconds=5):
        seen.append((event.type, event.object["metadata"].get("name", "")))
        if len(seen) == 2:
            k8s_double.send_bookmarks()
        if event.type == "BOOKMARK":
            break
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("BOOKMARK", "")]


def test_an_expired_version_is_watch_expired(adapter: KubeAdapter, k8s_double: K8sDouble) -> None:
    _, version = adapter.list(CONFIG_MAP, NS)
    adapter.create(_config_map("x"))
    k8s_double.expire_watch_history()
    with pytest.raises(WatchExpired) as caught:
        list(adapter.watch(CONFIG_MAP, NS, version, timeout_seconds=5))
    assert caught.value.status == 410


def test_follow_a_pod_log_until_its_container_ends(adapter: KubeAdapter, k8s_double: K8sDouble) -> None:
    adapter.create(_job("logs"))
    (pod,) = [p["metadata"]["name"] for p in k8s_double.pods_of(NS, "Job", "logs")]
    k8s_double.set_pod_phase(NS, pod, "Running")
    k8s_double.append_log(NS, pod, "main", "one\n\ntwo\n")
    lines: list[str] = []

    def follow() -> None:
        lines.extend(parse_line(raw)[1] for raw in adapter.pod_log(pod, NS, "main", follow=True))

    reader = threading.Thread(target=follow)
    reader.start()
    k8s_double.append_log(NS, pod, "main", "three\n")
    k8s_double.set_pod_phase(NS, pod, "Succeeded")
    reader.join(10)
    assert not reader.is_alive()
    assert lines == ["one", "", "two", "three"]


def test_throttling_and_unavailability_are_retried(
    adapter: KubeAdapter, k8s_double: K8sDouble, waits: list[float]
) -> None:
    k8s_double.inject_fault(429, method="GET", path="/configmaps$", retry_after=2)
    k8s_double.inject_fault(503, method="GET", path="/configmaps$", count=2)
    items, _ = adapter.list(CONFIG_MAP, NS)
    assert isinstance(items, list)
    assert waits[0] == 2.0 and len(waits) == 3
    assert adapter.retries_done == 3


def test_retries_end_with_the_api_s_own_words(adapter: KubeAdapter, k8s_double: K8sDouble) -> None:
    k8s_double.inject_fault(503, method="POST", count=10, message="etcd is sad")
    with pytest.raises(ApiFailure) as caught:
        adapter.create(_config_map("never"))
    assert caught.value.status == 503
    assert str(caught.value) == "Kubernetes API: 503 ServiceUnavailable: etcd is sad"


def test_an_invalid_object_is_not_retried(adapter: KubeAdapter, waits: list[float]) -> None:
    broken = _job("bad")
    del broken["spec"]["template"]["spec"]["containers"][0]["image"]
    with pytest.raises(ApiFailure) as caught:
        adapter.create(broken)
    assert caught.value.status == 422 and "image" in caught.value.detail
    assert waits == []


def test_an_unreachable_api_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    adapter = KubeAdapter.from_kubeconfig(str(config), retry=RetryPolicy(attempts=2, base=0.01))
    with pytest.raises(ApiFailure) as caught:
        adapter.get(POD, "p", NS)
    assert caught.value.status == 0 and "cannot be reached" in str(caught.value)


def test_a_bad_kubeconfig_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match=str(tmp_path / "nope")):
        KubeAdapter.from_kubeconfig(str(tmp_path / "nope"))


def test_list_crds(adapter: KubeAdapter) -> None:
    assert {
        "pytorchjobs.kubeflow.org",
        "rayclusters.ray.io",
        "daskjobs.kubernetes.dask.org",
    } <= adapter.list_crds()


def test_log_lines_are_parsed_with_their_timestamps() -> None:
    stamp, text = parse_line("2026-01-02T03:04:05.123456789Z hello world")
    assert text == "hello world"
    assert abs(stamp - 1767323045.123456) < 1e-6
    assert parse_line("no timestamp")[1] == "no timestamp"


def test_in_cluster_outside_a_pod_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ExecutorError, match="not running inside a Kubernetes pod"):
        KubeAdapter.in_cluster()


def test_importing_the_executor_does_not_import_the_kubernetes_client() -> None:
    import subprocess
    import sys

    code = "import sys, mizzen.executors.kubernetes; print('kubernetes' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
