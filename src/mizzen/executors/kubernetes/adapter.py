"""The one module that talks to the official ``kubernetes`` client (imported lazily, on first use).

Objects go in and come out as plain dicts (the API's JSON), never as client models. Calls that fail
with 429 (honouring Retry-After), 500, 503 or 504, or with a broken connection, are retried with a
bounded exponential backoff; a 409 on create is an answer, not an error (the caller adopts).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from mizzen.errors import ExecutorError
from mizzen.executors.kubernetes.failures import ApiFailure, WatchExpired
from mizzen.executors.kubernetes.resources import CRD, ResourceKind, kind_of
from mizzen.executors.kubernetes.streams import OpenStreams, read_lines

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({429, 500, 503, 504})
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base: float = 0.2  # seconds before the first retry, doubled each time
    maximum: float = 10.0
    max_retry_after: float = 60.0  # never wait longer than this for a Retry-After

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.maximum, self.base * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        return str(self.object.get("metadata", {}).get("resourceVersion", ""))


def _failure_from(error: Exception) -> ApiFailure:
    """An ApiFailure from a client ApiException or a connection error."""
    status = getattr(error, "status", None)
    if status is None:
        return ApiFailure(0, "Unreachable", f"the Kubernetes API cannot be reached: {error}")
    body = getattr(error, "body", None)
    reason, message = str(getattr(error, "reason", "") or ""), str(body or error)
    if body:
        try:
            parsed = json.loads(body)
            reason = parsed.get("reason") or reason
            message = parsed.get("message") or message
        except (ValueError, AttributeError):
            pass
    headers = getattr(error, "headers", None) or {}
    retry_after: float | None = None
    if headers.get("Retry-After") is not None:
        try:
            retry_after = float(headers["Retry-After"])
        except ValueError:
            retry_after = None
    kind = WatchExpired if status == 410 else ApiFailure
    return kind(int(status), reason, message, retry_after)


def _is_client_error(error: Exception) -> bool:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    return isinstance(error, ApiException | HTTPError | OSError)


class KubeAdapter:
    """Small, dict-in dict-out Kubernetes API calls with retries."""

    def __init__(
        self,
        api_client: Any,
        *,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.retry = retry or RetryPolicy()
        self.request_timeout = request_timeout
        self._sleep = sleep
        self._core = client.CoreV1Api(api_client)
        self._custom = client.CustomObjectsApi(api_client)
        self._streams = OpenStreams()  # watches and log follows, cut by close()
        self.retries_done = 0  # how many calls were retried (tests and metrics read it)

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, context: str | None = None, **options: Any
    ) -> KubeAdapter:
        from kubernetes import client, config

        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=path, context=context, client_configuration=configuration)
        except (config.ConfigException, OSError) as error:
            raise ExecutorError(f"cannot load the kubeconfig {path or '~/.kube/config'}: {error}") from error
        return cls(_api_client(configuration), **options)

    @classmethod
    def in_cluster(cls, **options: Any) -> KubeAdapter:
        from kubernetes import client, config

        configuration = client.Configuration()
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException as error:
            raise ExecutorError(f"not running inside a Kubernetes pod (--in-cluster): {error}") from error
        return cls(_api_client(configuration), **options)

    @property
    def closed(self) -> bool:
        return self._streams.closed

    def close(self) -> None:
        """Close every open stream (watches and log follows end) and the connection pool."""
        self._streams.close_all()
        self.api_client.close()

    # -- objects -----------------------------------------------------------------------------------

    def create(self, obj: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create ``obj``; on 409 AlreadyExists return the existing object and False."""
        kind = kind_of(obj)
        namespace = obj.get("metadata", {}).get("namespace", "")
        try:
            return self._json(lambda: self._call(kind, "create", namespace, body=obj)), True
        except ApiFailure as failure:
            if failure.status != 409:
                raise
        existing = self.get(kind, obj["metadata"]["name"], namespace)
        if existing is None:  # deleted in between: create again, once
            return self._json(lambda: self._call(kind, "create", namespace, body=obj)), True
        return existing, False

    def get(self, kind: ResourceKind, name: str, namespace: str = "") -> dict[str, Any] | None:
        try:
            return self._json(lambda: self._call(kind, "get", namespace, name=name))
        except ApiFailure as failure:
            if failure.status == 404:
                return None
            raise

    def list(
        self,
        kind: ResourceKind,
        namespace: str = "",
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> tuple[list[dict[str, Any]], str]:
        """Every matching object (paginated) and the list's resourceVersion to watch from."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            query: dict[str, Any] = {"limit": page_size}
            if label_selector:
                query["label_selector"] = label_selector
            if field_selector:
                query["field_selector"] = field_selector
            if token:
                query["_continue"] = token
            page = self._json(lambda q=query: self._call(kind, "list", namespace, **q))  # type: ignore[misc]
            items += page.get("items") or []
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return items, str(meta.get("resourceVersion", ""))

    def delete(
        self,
        kind: ResourceKind,
        name: str,
        namespace: str = "",
        *,
        propagation: str = "Foreground",
        grace_seconds: int | None = None,
    ) -> bool:
        """Delete with a propagation policy; False when it was already gone."""
        options: dict[str, Any] = {"propagation_policy": propagation}
        if grace_seconds is not None:
            options["grace_period_seconds"] = grace_seconds
        try:
            self._json(lambda: self._call(kind, "delete", namespace, name=name, **options))
        except ApiFailure as failure:
            if failure.status == 404:
                return False
            raise
        return True

    def patch(self, kind: ResourceKind, name: str, namespace: str, patch: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch."""
        return self._json(
            lambda: self._call(
                kind, "patch", namespace, name=name, body=patch, _content_type="application/merge-patch+json"
            )
        )

    def list_crds(self) -> set[str]:
        """Names of the CustomResourceDefinitions installed (``pytorchjobs.kubeflow.org``...)."""
        items, _ = self.list(CRD)
        return {item["metadata"]["name"] for item in items}

    # -- streams -----------------------------------------------------------------------------------

    def watch(
        self,
        kind: ResourceKind,
        namespace: str,
        resource_version: str,
        *,
        label_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> Iterator[WatchEvent]:
        """Changes after ``resource_version`` (bookmarks included) until the server ends the stream.

        Raises WatchExpired on 410 Gone; a dropped connection raises ApiFailure (status 0).
        """
        query: dict[str, Any] = {
            "watch": True,
            "resource_version": resource_version,
            "allow_watch_bookmarks": True,
            "timeout_seconds": timeout_seconds,
        }
        if label_selector:
            query["label_selector"] = label_selector
        response = self._with_retries(
            lambda: self._call(
                kind, "list", namespace, _request_timeout=(10.0, timeout_seconds + 30.0), **query
            )
        )
        with self._streams.track(response):
            try:
                for line in read_lines(response):
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        failure = WatchExpired if status.get("code") == 410 else ApiFailure
                        raise failure(
                            int(status.get("code") or 500),
                            str(status.get("reason") or ""),
                            str(status.get("message") or "watch error"),
                        )
                    yield WatchEvent(str(event.get("type")), event.get("object") or {})
            except ApiFailure:
                raise
            except Exception as error:  # a cut connection shows up as many exception types
                raise ApiFailure(0, "WatchDropped", f"the watch of {kind.plural} was cut: {error}") from error

    def pod_log(
        self, name: str, namespace: str, container: str, *, follow: bool = False, previous: bool = False
    ) -> Iterator[str]:
        """A container's log lines, each prefixed by its RFC 3339 timestamp and a space."""
        response = self._with_retries(
            lambda: self._core.read_namespaced_pod_log(
                name,
                namespace,
                container=container,
                follow=follow,
                previous=previous,
                timestamps=True,
                _preload_content=False,
                _request_timeout=None if follow else self.request_timeout,
            )
        )
        with self._streams.track(response):
            try:
                yield from read_lines(response)
            except Exception as error:  # a cut connection shows up as many exception types
                raise ApiFailure(
                    0, "LogDropped", f"the log stream of {name}/{container} was cut: {error}"
                ) from error

    # -- inside ------------------------------------------------------------------------------------

    def _call(self, kind: ResourceKind, verb: str, namespace: str, **kwargs: Any) -> Any:
        kwargs["_preload_content"] = False
        kwargs.setdefault("_request_timeout", self.request_timeout)
        if kind.group:
            custom = self._custom
            names = (kind.group, kind.version)
            if not kind.namespaced:
                method = {
                    "create": "create_cluster_custom_object",
                    "get": "get_cluster_custom_object",
                    "list": "list_cluster_custom_object",
                    "delete": "delete_cluster_custom_object",
                    "patch": "patch_cluster_custom_object",
                }[verb]
                return getattr(custom, method)(*names, kind.plural, *_positional(verb, kwargs), **kwargs)
            method = f"{verb}_namespaced_custom_object"
            return getattr(custom, method)(
                *names, namespace, kind.plural, *_positional(verb, kwargs), **kwargs
            )
        suffix = f"namespaced_{kind.snake}" if kind.namespaced else kind.snake
        verb_name = {"get": "read"}.get(verb, verb)
        method = getattr(self._core, f"{verb_name}_{suffix}")
        args = _positional(verb, kwargs)
        if verb in ("get", "delete", "patch"):
            name = args.pop(0)
            return method(name, *([namespace] if kind.namespaced else []), *args, **kwargs)
        return method(*([namespace] if kind.namespaced else []), *args, **kwargs)

    def _json(self, call: Callable[[], Any]) -> Any:
        response = self._with_retries(call)
        try:
            data = response.data
        finally:
            response.release_conn()
        return json.loads(data) if data else {}

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempt = 1
        while True:
            try:
                return call()
            except Exception as error:
                if not _is_client_error(error):
                    raise
                failure = _failure_from(error)
                retryable = failure.status in RETRIED_STATUSES or failure.status == 0
                if not retryable or attempt >= self.retry.attempts or self.closed:
                    raise failure from error
                delay = self.retry.delay(attempt, failure.retry_after if failure.status == 429 else None)
                log.info(
                    "Kubernetes API %s (%s); retry %d in %.2fs",
                    failure.status,
                    failure.reason,
                    attempt,
                    delay,
                )
                self.retries_done += 1
                self._sleep(delay)
                attempt += 1


def _positional(verb: str, kwargs: dict[str, Any]) -> list[Any]:
    """Pop the positional arguments of a client method (name, body) out of ``kwargs``."""
    args: list[Any] = []
    if verb in ("get", "delete", "patch"):
        args.append(kwargs.pop("name"))
    if verb in ("create", "patch"):
        args.append(kwargs.pop("body"))
    return args


def _api_client(configuration: Any) -> Any:
    from kubernetes import client

    # Watches and log follows each hold a connection: leave room for them.
    configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, 64)
    # Retries are ours (every verb, Retry-After honoured, counted): urllib3 must not retry underneath.
    configuration.retries = False
    return client.ApiClient(configuration)
