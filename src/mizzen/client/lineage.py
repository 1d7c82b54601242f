"""Lineage records of a run's artifacts: ``/runs/{uuid}/lineage``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import LineageCreate, LineageRead

_LINEAGE = TypeAdapter(list[LineageRead])


class LineageApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, uuid: str, records: Sequence[LineageCreate]) -> list[LineageRead]:
        body = [r.model_dump(mode="json") for r in records]
        return _LINEAGE.validate_python(self._t.post(f"/runs/{path_segment(uuid)}/lineage", json=body).json())

    def list(self, uuid: str) -> list[LineageRead]:
        return _LINEAGE.validate_python(self._t.get(f"/runs/{path_segment(uuid)}/lineage").json())
