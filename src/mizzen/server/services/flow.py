"""Approving runs held by ``isApproved: false``, and the run cache: an agent's cache check and
``mizzen ops invalidate``."""

from __future__ import annotations

from mizzen.errors import Conflict
from mizzen.schemas.api import RunRead
from mizzen.schemas.flow import CacheAnswer, CacheCheck, CacheInvalidation
from mizzen.schemas.run_meta import APPROVED_KEY, CACHE_HIT_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.server.services import convert
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.server.services.validation import check_run_uuid
from mizzen.store import Database
from mizzen.store.gateway import flow as gateway
from mizzen.store.records import RunRecord, StatusChange

_WAITING = (RunStatus.CREATED, RunStatus.QUEUED)


def _must_be_held(run: RunRecord) -> None:
    if run.meta.get(APPROVED_KEY) is not False:
        raise Conflict(f"run {run.uuid} is not waiting for approval (it is {run.status.value})")
    if run.status not in _WAITING:
        raise Conflict(
            f"run {run.uuid} is {run.status.value}: only a run that has not started can be approved"
        )


class FlowService:
    def __init__(self, db: Database, events: RunEventBus) -> None:
        self.db = db
        self.events = events

    def approve(self, uuid: str) -> RunRead:
        check_run_uuid(uuid, "uuid")
        change = gateway.approve(self.db, uuid, _must_be_held)
        run = change.run
        # Schedulers and pipeline drivers wake on "created": the run is now as good as new to them.
        self.events.publish(RunEvent("created", run.uuid, run.project, run.status, None))
        return convert.run_read(change.detail)

    def invalidate(self, uuid: str) -> CacheInvalidation:
        check_run_uuid(uuid, "uuid")
        detail, dropped = gateway.invalidate(self.db, uuid)
        return CacheInvalidation(uuid=detail.run.uuid, dropped=dropped)

    def check_cache(self, uuid: str, body: CacheCheck) -> CacheAnswer:
        check_run_uuid(uuid, "uuid")
        change = gateway.use_cache(self.db, uuid, body.key, ttl=body.ttl)
        if change is None:
            return CacheAnswer()
        self._published(change)
        return CacheAnswer(hit=change.run.meta[CACHE_HIT_KEY]["uuid"])

    def _published(self, change: StatusChange) -> None:
        run = change.run
        self.events.publish(RunEvent("status_changed", run.uuid, run.project, run.status, change.previous))
