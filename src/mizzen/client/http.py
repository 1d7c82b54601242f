"""The HTTP transport under every resource module: one keep-alive ``httpx.Client``, errors mapped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from mizzen.client.errors import error_from_response, unreachable
from mizzen.schemas.api import API_PREFIX

DEFAULT_TIMEOUT = 30.0


def normalize_host(host: str) -> str:
    """``127.0.0.1:8000`` -> ``http://127.0.0.1:8000``; no trailing slash."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    return host


def path_segment(value: str) -> str:
    """One URL path segment (a uuid, a project or metric name): slashes are escaped."""
    return quote(value, safe="")


def path_of(relative: str) -> str:
    """A relative artifact path, kept as several URL segments."""
    return quote(relative.lstrip("/"), safe="/")


def accepted_count(response: httpx.Response, sent: int) -> int:
    """The ``{"accepted": n}`` of an ingest answer (``sent`` when the answer does not say)."""
    answer = response.json()
    return int(answer.get("accepted", sent)) if isinstance(answer, dict) else sent


class Transport:
    """Sends requests to ``{host}/api/v1``; raises ``ApiError`` subclasses, never httpx errors."""

    def __init__(
        self,
        host: str,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.host = normalize_host(host)
        headers = {"User-Agent": "mizzen-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.host + API_PREFIX,
            headers=headers,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=_clean_params(params),
                content=content,
                headers=headers,
                **kwargs,
            )
        except httpx.TransportError as exc:
            raise unreachable(self.host, exc) from None
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, timeout: Any = None
    ) -> Iterator[httpx.Response]:
        """A streamed answer (logs follow, downloads); the body is read by the caller."""
        try:
            with self._http.stream(
                method, path, params=_clean_params(params), timeout=timeout or self._http.timeout
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_from_response(response)
                yield response
        except httpx.TransportError as exc:
            raise unreachable(self.host, exc) from None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._http.close()


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}
