"""Approvals and the run cache: ``/runs/{uuid}/approve``, ``/runs/{uuid}/invalidate`` and an
agent's cache check (``/agents/{name}/runs/{uuid}/cache``)."""

from __future__ import annotations

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import RunRead
from mizzen.schemas.flow import CacheAnswer, CacheCheck, CacheInvalidation


class FlowApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def approve(self, uuid: str) -> RunRead:
        return RunRead.model_validate(self._t.post(f"/runs/{path_segment(uuid)}/approve").json())

    def invalidate(self, uuid: str) -> CacheInvalidation:
        answer = self._t.post(f"/runs/{path_segment(uuid)}/invalidate")
        return CacheInvalidation.model_validate(answer.json())

    def check_cache(self, agent: str, uuid: str, key: str, ttl: int | None) -> CacheAnswer:
        """Record run ``uuid``'s cache key; ``hit`` names the run it reuses (it is now skipped)."""
        body = CacheCheck(key=key, ttl=ttl).model_dump(mode="json")
        answer = self._t.post(f"/agents/{path_segment(agent)}/runs/{path_segment(uuid)}/cache", json=body)
        return CacheAnswer.model_validate(answer.json())
