"""Runs: ``/runs`` (create, list, get, update, delete, stop and the three ways to clone)."""

from __future__ import annotations

from typing import Any

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import CloneRequest, RunCreate, RunList, RunRead, RunUpdate


class RunsApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self, body: RunCreate | None = None, idempotency_key: str | None = None, **fields: Any
    ) -> RunRead:
        """``create(RunCreate(...))`` or ``create(project="p", name="n", ...)``.

        With ``idempotency_key``, repeating the request (after a lost answer) returns the same run.
        """
        body = body or RunCreate(**fields)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._t.post("/runs", json=body.model_dump(mode="json"), headers=headers)
        return RunRead.model_validate(response.json())

    def list(
        self,
        project: str | None = None,
        query: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> RunList:
        params = {"project": project, "query": query, "sort": sort, "limit": limit, "offset": offset}
        return RunList.model_validate(self._t.get("/runs", params=params).json())

    def get(self, uuid: str) -> RunRead:
        return RunRead.model_validate(self._t.get(_run(uuid)).json())

    def update(self, uuid: str, body: RunUpdate | None = None, **fields: Any) -> RunRead:
        """Only the fields given are sent; inputs, outputs and meta are merged by the server."""
        body = body or RunUpdate(**fields)
        payload = body.model_dump(mode="json", exclude_unset=True)
        return RunRead.model_validate(self._t.patch(_run(uuid), json=payload).json())

    def delete(self, uuid: str) -> None:
        self._t.delete(_run(uuid))

    def stop(self, uuid: str) -> RunRead:
        return RunRead.model_validate(self._t.post(f"{_run(uuid)}/stop").json())

    def restart(self, uuid: str, name: str | None = None, params: dict[str, Any] | None = None) -> RunRead:
        return self._clone(uuid, "restart", name, params)

    def resume(self, uuid: str, name: str | None = None, params: dict[str, Any] | None = None) -> RunRead:
        return self._clone(uuid, "resume", name, params)

    def copy(self, uuid: str, name: str | None = None, params: dict[str, Any] | None = None) -> RunRead:
        return self._clone(uuid, "copy", name, params)

    def _clone(self, uuid: str, how: str, name: str | None, params: dict[str, Any] | None) -> RunRead:
        body = CloneRequest(name=name, params=params).model_dump(mode="json")
        return RunRead.model_validate(self._t.post(f"{_run(uuid)}/{how}", json=body).json())


def _run(uuid: str) -> str:
    return f"/runs/{path_segment(uuid)}"
