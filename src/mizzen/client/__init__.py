"""A typed HTTP client for the Mizzen API (sync, keep-alive), one attribute per resource.

    with MizzenClient("http://127.0.0.1:8000", token=None) as client:
        run = client.runs.create(project="demo", name="first")
        client.metrics.log(run.uuid, [MetricPoint(name="loss", value=0.1, step=1, timestamp=time.time())])

Errors are ``mizzen.errors.ApiError`` (``ApiNotFound`` is also a ``NotFound``, ``ApiConflict`` a
``Conflict``); a server that cannot be reached raises ``ApiUnreachable`` with a message naming it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from mizzen.client.agents import AgentsApi
from mizzen.client.artifacts import ArtifactsApi
from mizzen.client.errors import ApiConflict, ApiNotFound, ApiRequestError, ApiUnreachable
from mizzen.client.flow import FlowApi
from mizzen.client.http import DEFAULT_TIMEOUT, Transport, normalize_host
from mizzen.client.lineage import LineageApi
from mizzen.client.logs import LogsApi
from mizzen.client.metrics import MetricsApi
from mizzen.client.pipelines import PipelinesApi
from mizzen.client.projects import ProjectsApi
from mizzen.client.runs import RunsApi
from mizzen.client.statuses import StatusesApi

__all__ = [
    "ApiConflict",
    "ApiNotFound",
    "ApiRequestError",
    "ApiUnreachable",
    "MizzenClient",
    "normalize_host",
]


class MizzenClient:
    def __init__(
        self, host: str, token: str | None = None, timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    ) -> None:
        self.transport = Transport(host, token=token, timeout=timeout)
        self.host = self.transport.host
        self.projects = ProjectsApi(self.transport)
        self.runs = RunsApi(self.transport)
        self.statuses = StatusesApi(self.transport)
        self.metrics = MetricsApi(self.transport)
        self.logs = LogsApi(self.transport)
        self.artifacts = ArtifactsApi(self.transport)
        self.lineage = LineageApi(self.transport)
        self.agents = AgentsApi(self.transport)
        self.flow = FlowApi(self.transport)  # approvals and the run cache
        self.pipelines = PipelinesApi(self.transport)

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ...}``; raises ``ApiUnreachable`` when nothing answers."""
        answer = self.transport.get("/healthz").json()
        return answer if isinstance(answer, dict) else {"status": str(answer)}

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> MizzenClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
