"""Watch through the official client: events, resume, bookmarks, 410 expiry, selectors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl


def _cm(name: str, value: str = "1", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "data": {"v": value}}


def _events(stream: Iterator[dict[str, Any]], count: int) -> list[tuple[str, str, str]]:
    seen = []
    for event in stream:
        obj = event["raw_object"]
        seen.append((event["type"], obj["metadata"].get("name", ""), obj["metadata"]["resourceVersion"]))
        if len(seen) == count:
            break
    return seen


def test_watch_streams_added_modified_deleted(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    listed = core.list_namespaced_config_map("default")
    rv = listed.metadata.resource_version
    created = core.create_namespaced_config_map("default", _cm("a"))
    core.patch_namespaced_config_map("a", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("a", "default")
    w = watch.Watch()
    stream = w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=30)
    events = _events(stream, 3)
    w.stop()
    assert [(t, n) for t, n, _ in events] == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    rvs = [int(r) for _, _, r in events]
    assert rvs == sorted(rvs) and rvs[0] == int(created.metadata.resource_version)


def test_watch_typed_objects_and_live_changes(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    w = watch.Watch()
    received: list[Any] = []

    def consume() -> None:
        for event in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=30):
            received.append(event)
            if event["raw_object"]["metadata"]["name"] == "live" and event["type"] == "MODIFIED":
                w.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    k8s_double.wait_for_watches(1)
    core.create_namespaced_config_map("default", _cm("live"))
    core.patch_namespaced_config_map("live", "default", {"data": {"v": "2"}})
    reader.join(30)
    assert not reader.is_alive()
    # no resourceVersion: the current state first (kube-root-ca.crt), then the changes
    assert [(e["type"], e["object"].metadata.name) for e in received] == [
        ("ADDED", "kube-root-ca.crt"),
        ("ADDED", "live"),
        ("MODIFIED", "live"),
    ]
    assert isinstance(received[-1]["object"], client.V1ConfigMap)
    assert received[-1]["object"].data == {"v": "2"}


def test_label_selector_watch_sees_objects_enter_and_leave(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", _cm("a", labels={"team": "x"}))
    core.create_namespaced_config_map("default", _cm("b", labels={"team": "y"}))
    core.patch_namespaced_config_map("b", "default", {"metadata": {"labels": {"team": "x"}}})
    core.patch_namespaced_config_map("a", "default", {"metadata": {"labels": {"team": "y"}}})
    w = watch.Watch()
    events = _events(
        w.stream(
            core.list_namespaced_config_map,
            "default",
            label_selector="team=x",
            resource_version=rv,
            timeout_seconds=30,
        ),
        3,
    )
    w.stop()
    assert [(t, n) for t, n, _ in events] == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_resume_from_last_seen_resource_version(k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map("default", _cm(name))
    w = watch.Watch()
    first = _events(
        w.stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=30), 1
    )
    w.stop()
    assert first[0][:2] == ("ADDED", "a")
    w = watch.Watch()
    rest = _events(
        w.stream(
            core.list_namespaced_config_map, "default", resource_version=first[0][2], timeout_seconds=30
        ),
        2,
    )
    w.stop()
    assert [n for _, n, _ in rest] == ["b", "c"]


def test_expired_resource_version_is_410_gone(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    old_rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", _cm("a"))
    k8s_double.expire_watch_history()
    w = watch.Watch()
    with pytest.raises(ApiException) as gone:
        next(
            iter(
                w.stream(
                    core.list_namespaced_config_map, "default", resource_version=old_rv, timeout_seconds=30
                )
            )
        )
    assert gone.value.status == 410
    assert "too old resource version" in gone.value.reason
    # the recovery a client must do: relist, then watch from the list's resourceVersion
    relisted = core.list_namespaced_config_map("default")
    core.create_namespaced_config_map("default", _cm("b"))
    w = watch.Watch()
    events = _events(
        w.stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=relisted.metadata.resource_version,
            timeout_seconds=30,
        ),
        1,
    )
    w.stop()
    assert events[0][:2] == ("ADDED", "b")


def test_a_shrunk_history_window_expires_older_versions(
    k8s_api: client.ApiClient, k8s_double: K8sDouble
) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.set_watch_window(2)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map("default", _cm(name))
    raw = core.list_namespaced_config_map_with_http_info(
        "default", watch=True, resource_version=start, timeout_seconds=5, _preload_content=False
    )
    (line,) = raw.data.decode().splitlines()
    event = json.loads(line)
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_bookmarks_carry_the_current_resource_version(
    k8s_api: client.ApiClient, k8s_double: K8sDouble
) -> None:
    core = client.CoreV1Api(k8s_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    w = watch.Watch()
    received: list[dict[str, Any]] = []

    def consume() -> None:
        for event in w.stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=rv,
            allow_watch_bookmarks=True,
            timeout_seconds=30,
        ):
            received.append(event)
            if event["type"] == "BOOKMARK":
                w.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    k8s_double.wait_for_watches(1)
    secret = core.create_namespaced_secret("default", {"metadata": {"name": "unrelated"}})
    assert k8s_double.send_bookmarks() == 1
    reader.join(30)
    assert [e["type"] for e in received] == ["BOOKMARK"]
    bookmark = received[0]["raw_object"]
    assert bookmark["kind"] == "ConfigMap"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(secret.metadata.resource_version)
    assert w.resource_version == bookmark["metadata"]["resourceVersion"]


def test_initial_events_end_bookmark(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    w = watch.Watch()
    events = []
    for event in w.stream(
        core.list_namespaced_config_map,
        "default",
        allow_watch_bookmarks=True,
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        timeout_seconds=30,
    ):
        events.append(event)
        if event["type"] == "BOOKMARK":
            w.stop()
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[0]["object"].metadata.name == "kube-root-ca.crt"
    assert events[1]["raw_object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_custom_object_watch(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    rv = custom.list_namespaced_custom_object("ray.io", "v1", "default", "rayclusters")["metadata"][
        "resourceVersion"
    ]
    k8s_double.create(
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayCluster",
            "metadata": {"name": "rc"},
            "spec": {
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {
                        "spec": {"containers": [{"name": "ray-head", "image": "rayproject/ray:2.40.0"}]}
                    },
                }
            },
        }
    )
    w = watch.Watch()
    events = list(
        _events(
            w.stream(
                custom.list_namespaced_custom_object,
                "ray.io",
                "v1",
                "default",
                "rayclusters",
                resource_version=rv,
                timeout_seconds=30,
            ),
            2,
        )
    )
    w.stop()
    assert [(t, n) for t, n, _ in events] == [("ADDED", "rc"), ("MODIFIED", "rc")]


def test_idle_watches_get_periodic_bookmarks(k8s_api: client.ApiClient, k8s_double: K8sDouble) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.watches.bookmark_interval = 0.05  # a real API server sends one about every minute
    rv = core.list_namespaced_pod("default").metadata.resource_version
    w = watch.Watch()
    for event in w.stream(
        core.list_namespaced_pod,
        "default",
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=30,
    ):
        assert event["type"] == "BOOKMARK"
        assert event["raw_object"]["metadata"]["resourceVersion"] == rv
        w.stop()


def test_kubectl_watch_prints_table_rows(kubectl: Kubectl, k8s_double: K8sDouble) -> None:
    k8s_double.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        }
    )
    watcher = kubectl.popen("get", "pods", "--watch")
    assert watcher.stdout is not None
    assert watcher.stdout.readline().split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert watcher.stdout.readline().split()[:3] == ["p", "0/1", "Pending"]
    k8s_double.wait_for_watches(1)
    k8s_double.set_pod_phase("default", "p", "Running")
    assert watcher.stdout.readline().split()[:3] == ["p", "0/1", "Pending"]  # scheduled, not started yet
    assert watcher.stdout.readline().split()[:3] == ["p", "1/1", "Running"]
    watcher.terminate()
    watcher.wait(timeout=30)
