"""Run statuses: ``/runs/{uuid}/statuses``."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import TypeAdapter

from mizzen.client.http import Transport, path_segment
from mizzen.schemas.api import RunRead, StatusCondition, StatusUpdate
from mizzen.schemas.statuses import RunStatus

_CONDITIONS = TypeAdapter(list[StatusCondition])


class StatusesApi:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def set(
        self,
        uuid: str,
        status: RunStatus | str,
        reason: str | None = None,
        message: str | None = None,
        *,
        time: datetime | float | None = None,
    ) -> RunRead:
        """Raises ``ApiConflict`` when the status machine does not allow the change. ``time``: when
        it happened (a datetime, or seconds since the epoch; default: when the server receives it)."""
        if isinstance(time, int | float):
            time = datetime.fromtimestamp(time, UTC)
        body = StatusUpdate(status=RunStatus(status), reason=reason, message=message, time=time)
        response = self._t.post(f"/runs/{path_segment(uuid)}/statuses", json=body.model_dump(mode="json"))
        return RunRead.model_validate(response.json())

    def list(self, uuid: str) -> list[StatusCondition]:
        return _CONDITIONS.validate_python(self._t.get(f"/runs/{path_segment(uuid)}/statuses").json())
