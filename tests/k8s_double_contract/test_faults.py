"""Fault injection: throttling, server errors and watches cut mid-stream."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from k8s_double import K8sDouble
from k8s_double.kubectl import Kubectl


def test_429_with_retry_after_reaches_a_client_that_does_not_retry(k8s_double: K8sDouble) -> None:
    configuration = client.Configuration()
    configuration.host = k8s_double.url
    configuration.retries = False  # urllib3 would otherwise honour Retry-After and retry on its own
    with client.ApiClient(configuration) as api_client:
        core = client.CoreV1Api(api_client)
        rule = k8s_double.inject_fault(429, count=1, method="GET", path=r"/configmaps$", retry_after=3)
        with pytest.raises(ApiException) as throttled:
            core.list_namespaced_config_map("default")
        assert throttled.value.status == 429
        assert throttled.value.headers["Retry-After"] == "3"
        body = json.loads(throttled.value.body)
        assert (body["reason"], body["details"]["retryAfterSeconds"]) == ("TooManyRequests", 3)
        assert rule.hits == 1
        assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == [
            "kube-root-ca.crt"
        ]


def test_the_default_client_retries_after_429(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    rule = k8s_double.inject_fault(429, count=2, method="GET", path=r"/configmaps$", retry_after=0)
    items = client.CoreV1Api(k8s_api).list_namespaced_config_map("default").items
    assert [c.metadata.name for c in items] == ["kube-root-ca.crt"]
    assert rule.hits == 2


def test_kubectl_retries_after_429(k8s_double: K8sDouble, kubectl: Kubectl) -> None:
    rule = k8s_double.inject_fault(
        429, count=1, method="GET", path=r"/namespaces/default/configmaps$", retry_after=0
    )
    names = kubectl.run("get", "configmaps", "-o", "name").stdout.split()
    assert names == ["configmap/kube-root-ca.crt"]
    assert rule.hits == 1


def test_next_n_matching_requests_fail(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.inject_fault(503, count=2, method="POST")
    k8s_double.inject_fault(500, count=1, path=r"/secrets")
    for _ in range(2):
        with pytest.raises(ApiException) as unavailable:
            core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
        assert unavailable.value.status == 503
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}})
    assert created.metadata.name == "cfg"
    with pytest.raises(ApiException) as internal:
        core.list_namespaced_secret("default")
    assert (internal.value.status, json.loads(internal.value.body)["reason"]) == (500, "InternalError")
    assert core.list_namespaced_secret("default").items == []


def _start_watch(core: client.CoreV1Api, rv: str) -> tuple[threading.Thread, list[Any], list[BaseException]]:
    events: list[Any] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            for event in watch.Watch().stream(
                core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=30
            ):
                events.append(event)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=consume)
    reader.start()
    return reader, events, errors


def test_a_watch_reset_mid_stream_is_a_protocol_error(
    k8s_double: K8sDouble, k8s_api: client.ApiClient
) -> None:
    core = client.CoreV1Api(k8s_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "before"}})
    k8s_double.drop_next_watch(after_events=1, mode="reset")
    reader, events, errors = _start_watch(core, rv)
    reader.join(30)
    assert [e["object"].metadata.name for e in events] == ["before"]
    assert len(errors) == 1 and isinstance(errors[0], urllib3.exceptions.ProtocolError)


def test_a_watch_closed_cleanly_is_resumed_by_the_client(
    k8s_double: K8sDouble, k8s_api: client.ApiClient
) -> None:
    core = client.CoreV1Api(k8s_api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    w = watch.Watch()
    received: list[str] = []

    def consume() -> None:
        for event in w.stream(core.list_namespaced_config_map, "default", resource_version=rv):
            received.append(event["object"].metadata.name)
            if len(received) == 2:
                w.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    k8s_double.wait_for_watches(1)
    core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
    assert k8s_double.drop_watches(mode="close") == 1
    core.create_namespaced_config_map("default", {"metadata": {"name": "b"}})
    reader.join(30)
    assert received == ["a", "b"]
    assert k8s_double.watches.opened == 2


def test_watch_requests_can_be_refused(k8s_double: K8sDouble, k8s_api: client.ApiClient) -> None:
    core = client.CoreV1Api(k8s_api)
    k8s_double.inject_fault(503, count=1, watch=True)
    assert core.list_namespaced_config_map("default").items
    with pytest.raises(ApiException) as refused:
        next(iter(watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=5)))
    assert refused.value.status == 503
