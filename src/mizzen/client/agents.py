"""Agents: ``/agents`` (heartbeat, list) and what an agent asks of the API (claim, stops, its runs)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import AgentClaim, AgentHeartbeat, AgentRead, AgentRun, AgentStops

_AGENTS = TypeAdapter(list[AgentRead])
_RUNS = TypeAdapter(list[AgentRun])


class AgentsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def heartbeat(
        self,
        name: str,
        *,
        namespace: str | None = None,
        queue: str | None = None,
        version: str | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> AgentRead:
        body = AgentHeartbeat(
            namespace=namespace, queue=queue, version=version, capabilities=capabilities or {}
        )
        answer = self._t.post(f"{_agent(name)}/heartbeat", json=body.model_dump(mode="json"))
        return AgentRead.model_validate(answer.json())

    def list(self) -> list[AgentRead]:
        return _AGENTS.validate_python(self._t.get("/agents").json())

    def claim(
        self,
        name: str,
        *,
        executor: str = "kubernetes",
        queue: str | None = None,
        limit: int = 16,
        idempotency_key: str | None = None,
    ) -> builtins.list[AgentRun]:
        """Created runs, now owned by ``name``; repeat a lost claim with the same ``idempotency_key``."""
        body = AgentClaim(executor=executor, queue=queue, limit=limit)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = self._t.post(f"{_agent(name)}/claim", json=body.model_dump(mode="json"), headers=headers)
        return _RUNS.validate_python(answer.json())

    def stops(self, name: str, active: Iterable[str], *, executor: str = "kubernetes") -> builtins.list[str]:
        body = AgentStops(executor=executor, active=sorted(active))
        answer = self._t.post(f"{_agent(name)}/stops", json=body.model_dump(mode="json")).json()
        return [str(uuid) for uuid in answer]

    def runs(self, name: str, *, executor: str = "kubernetes") -> builtins.list[AgentRun]:
        """The agent's unfinished runs."""
        return _RUNS.validate_python(
            self._t.get(f"{_agent(name)}/runs", params={"executor": executor}).json()
        )

    def reissue_token(self, name: str, uuid: str) -> AgentRun:
        answer = self._t.post(f"{_agent(name)}/runs/{path_segment(uuid)}/token")
        return AgentRun.model_validate(answer.json())


def _agent(name: str) -> str:
    return f"/agents/{path_segment(name)}"
