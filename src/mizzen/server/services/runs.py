"""Runs: create, list, read, update, delete, statuses, stop, and restart / resume / copy.

Every status change goes through ``set_status`` in the store (the status machine's gate); events
are published only after the transaction has committed, and artifacts are touched only then too.
"""

from __future__ import annotations

import logging
from typing import Any

from mizzen.artifacts.store import ArtifactsStore
from mizzen.errors import Conflict, InvalidTransition, NotFound
from mizzen.scheduler.pipeline.driver import PIPELINE_STOPPED
from mizzen.schemas.api import (
    CloneRequest,
    RunCreate,
    RunList,
    RunRead,
    RunUpdate,
    StatusCondition,
    StatusUpdate,
)
from mizzen.schemas.pipelines import DAG_OP_KEY, PIPELINE_KINDS, TRIAL_KEY, UPSTREAM_KEY
from mizzen.schemas.run_meta import CODE_RUN_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.server.exposure import check_host_access
from mizzen.server.services import convert
from mizzen.server.services.clone_fields import clone_inputs, code_meta
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.server.services.validation import (
    check_cloning_kind,
    check_fields,
    check_kind,
    check_length,
    check_moment,
    check_project_name,
    check_run_uuid,
)
from mizzen.store import Database
from mizzen.store.gateway import pipeline_reads, run_changes, statuses
from mizzen.store.gateway import runs as gateway
from mizzen.store.query import parse_query, parse_sort
from mizzen.store.records import IssuedRun, NewRun, RunPage, RunRecord, StatusMove

log = logging.getLogger(__name__)

# Nothing runs yet in these: a stop ends the run at once. Anything later needs its executor to act.
STOPPED_AT_ONCE = frozenset(
    {RunStatus.CREATED, RunStatus.ON_SCHEDULE, RunStatus.COMPILED, RunStatus.QUEUED, RunStatus.UNSCHEDULABLE}
)
# What a copy does not take from the original's artifacts: its logs, its tracking journal, and its
# uploaded code (the copy runs the same stored upload, see clone_fields.code_meta).
UPLOADS_PREFIX = "uploads/"
NOT_COPIED = ("logs/", ".tracking/", UPLOADS_PREFIX)
JSON_FIELDS = ("spec", "plan", "params", "inputs", "outputs", "meta", "tags")
RESUMED = StatusMove(RunStatus.QUEUED, "Resumed", "resumed by the user")
# What a restarted trial or op keeps of its meta: the part of its pipeline it runs.
CHILD_META_KEYS = (TRIAL_KEY, DAG_OP_KEY, UPSTREAM_KEY)


def _stop_move(run: RunRecord) -> StatusMove | None:
    """Not started yet: stopped at once. Running: ``stopping`` (its executor stops it). Done or
    already stopping: unchanged (None)."""
    if run.status in DONE_STATUSES or run.status == RunStatus.STOPPING:
        return None
    if run.status in STOPPED_AT_ONCE:
        return StatusMove(RunStatus.STOPPED, "StoppedBeforeStart", "stopped by the user")
    return StatusMove(RunStatus.STOPPING, "StopRequested", "stop requested by the user")


def _issued_read(issued: IssuedRun) -> RunRead:
    """The run with its new token (shown this once)."""
    return convert.run_read(issued.detail, token=issued.token)


def _check_create(body: RunCreate) -> None:
    check_project_name(body.project)
    check_kind(body.kind)
    check_cloning_kind(body.cloning_kind)
    for name in ("uuid", "pipeline_uuid", "parent_uuid", "original_uuid"):
        check_run_uuid(getattr(body, name), name)
    for name, limit in (("name", 255), ("executor", 32), ("queue", 128), ("cache_key", 128)):
        check_length(getattr(body, name), limit, name)
    check_fields(body, ("name", "description", "content", "executor", "queue", "cache_key", *JSON_FIELDS))


class RunService:
    def __init__(
        self,
        db: Database,
        store: ArtifactsStore,
        events: RunEventBus,
        default_executor: str = "local",
        allow_host_access: bool = False,
    ) -> None:
        self.db = db
        self.store = store
        self.events = events
        self.default_executor = default_executor  # runs created without one go to this executor
        self.allow_host_access = allow_host_access  # hostPath/privileged for cluster runs

    # -- create / read ----------------------------------------------------------------------------

    def create(self, body: RunCreate, idempotency_key: str | None = None) -> RunRead:
        _check_create(body)
        created_at = check_moment(body.created_at, "created_at")
        self._check_host_access(body.executor, {"spec": body.spec, "params": body.params})
        key = f"runs:{idempotency_key}" if idempotency_key else None
        fields = body.model_dump(exclude={"status", "created_at"})
        fields["executor"] = fields["executor"] or self.default_executor
        # A replayed key (the first answer was lost) answers the same run, with a fresh token.
        issued = run_changes.create_run(
            self.db, NewRun(**fields, status=body.status), idempotency_key=key, now=created_at
        )
        read = _issued_read(issued)
        if not issued.replayed:
            self._publish("created", read)
        return read

    def get(self, uuid: str) -> RunRead:
        return convert.run_read(gateway.get_run_detail(self.db, uuid))

    def search(
        self, project: str | None, query: str | None, sort: str | None, limit: int, offset: int
    ) -> RunList:
        page = self.search_page(project, query, sort, limit, offset)
        items = [convert.run_list_item(item) for item in page.items]
        return RunList.model_construct(items=items, count=page.count, limit=limit, offset=offset)

    def search_json(
        self, project: str | None, query: str | None, sort: str | None, limit: int, offset: int
    ) -> bytes:
        """``search(...)`` already serialised: the fast path of GET /runs."""
        page = self.search_page(project, query, sort, limit, offset)
        return convert.run_list_json(page.items, page.count, limit, offset)

    def search_page(
        self, project: str | None, query: str | None, sort: str | None, limit: int, offset: int
    ) -> RunPage:
        conditions, keys = parse_query(query), parse_sort(sort)
        return gateway.search_page(
            self.db, project=project, conditions=conditions, sort=keys, limit=limit, offset=offset
        )

    def conditions(self, uuid: str) -> list[StatusCondition]:
        return [convert.condition(c) for c in gateway.conditions_of(self.db, uuid)]

    def run_of_token(self, token: str) -> str | None:
        """The uuid of the run whose token this is, or None."""
        return gateway.run_of_token(self.db, token)

    # -- change -----------------------------------------------------------------------------------

    def update(self, uuid: str, body: RunUpdate) -> RunRead:
        check_length(body.name, 255, "name")
        check_fields(body, ("name", "description", "tags", "inputs", "outputs", "meta", "plan"))
        return convert.run_read(gateway.update_run(self.db, uuid, **body.model_dump(exclude_none=True)))

    def set_status(self, uuid: str, body: StatusUpdate) -> RunRead:
        check_fields(body, ("reason", "message"))
        check_length(body.reason, 255, "reason")
        moment = check_moment(body.time, "time")
        # Dated ``moment`` (when given) but never before the last condition: a client's clock that
        # went back leaves the history in order.
        change = statuses.set_status(self.db, uuid, body.status, body.reason, body.message, at=moment)
        read = convert.run_read(change.detail)
        if change.changed and change.previous != read.status:
            self._publish("status_changed", read, change.previous)
        return read

    def stop(self, uuid: str) -> RunRead:
        """Not started yet: stopped at once. Running: ``stopping`` + a stop request for its executor.
        Done or already stopping: unchanged."""
        change = statuses.change_status(self.db, uuid, _stop_move)
        read = convert.run_read(change.detail)
        if change.changed:
            self._publish("stop_requested", read, change.previous)
            self._publish("status_changed", read, change.previous)
        if read.kind in PIPELINE_KINDS:
            self._stop_children(uuid)
        return read

    def _stop_children(self, uuid: str) -> None:
        """A pipeline's runs stop with it (and those of a sweep inside a DAG). Its driver stops
        no-longer-planned children too; doing it here as well makes a stop work while no driver runs.
        They end with the reason a resumed pipeline restarts them for."""

        def move(run: RunRecord) -> StatusMove | None:
            wanted = _stop_move(run)
            return StatusMove(wanted.status, PIPELINE_STOPPED, "its pipeline was stopped") if wanted else None

        for child in pipeline_reads.unfinished_descendants(self.db, uuid):
            try:
                change = statuses.change_status(self.db, child, move)
            except NotFound:  # done and deleted meanwhile
                continue
            if change.changed:
                read = convert.run_read(change.detail)
                if read.status == RunStatus.STOPPING:
                    self._publish("stop_requested", read, change.previous)
                self._publish("status_changed", read, change.previous)

    def delete(self, uuid: str) -> None:
        """Delete the run; a pipeline's children (recursively) go with it."""
        if gateway.get_run(self.db, uuid).kind in PIPELINE_KINDS:
            run, under = pipeline_reads.delete_pipeline(self.db, uuid)
        else:
            run, under = run_changes.delete_run(self.db, uuid), []
        uuids = [u for u, _status, _code in under] + [uuid]
        before = {u: status for u, status, _code in under} | {uuid: run.status}
        code_runs = {code for _u, _s, code in under if code} | {run.meta.get(CODE_RUN_KEY)} - {None}
        self.runs_deleted(run.project, uuids, before, code_runs=sorted(str(c) for c in code_runs))

    def runs_deleted(
        self,
        project: str,
        uuids: list[str],
        statuses_before: dict[str, RunStatus] | None = None,
        code_runs: list[str] | None = None,
    ) -> None:
        """After a commit that deleted runs: ask executors to stop them, drop their artifacts. An
        upload that a restart or copy still runs stays until the last run using it is deleted
        (``code_runs``: the runs whose upload the deleted runs ran)."""
        in_use, gone = run_changes.code_refs_of(self.db, uuids, code_runs or [])
        for uuid in uuids:
            before = (statuses_before or {}).get(uuid)
            if before is None or before not in DONE_STATUSES:
                self.events.publish(RunEvent("stop_requested", uuid, project, None, before))
            self.events.publish(RunEvent("deleted", uuid, project, None, before))
            self._drop_artifacts(uuid, keep_uploads=uuid in in_use)
        for orphan in gone - in_use:  # a deleted original's upload, now used by no run
            self._drop_artifacts(orphan, keep_uploads=False)

    def _drop_artifacts(self, uuid: str, *, keep_uploads: bool) -> None:
        try:
            if not keep_uploads:
                self.store.delete_run(uuid)
                return
            for stored in self.store.list_files(uuid):
                if not stored.path.startswith(UPLOADS_PREFIX):
                    self.store.delete_file(uuid, stored.path)
        except OSError:
            log.exception("could not delete the artifacts of deleted run %s", uuid)

    # -- restart / resume / copy ------------------------------------------------------------------

    def clone(self, uuid: str, how: str, body: CloneRequest | None) -> RunRead:
        body = body or CloneRequest()
        check_fields(body, ("name", "params"))
        check_length(body.name, 255, "name")
        if how == "resume":
            return self._resume(uuid, body)
        original = gateway.get_run(self.db, uuid)
        _require_polyaxonfile(original.spec, how)
        # Refused for what they ask before they are checked against the polyaxonfile.
        self._check_host_access(original.executor, {"params": body.params})
        params = {**original.params, **(body.params or {})}
        inputs = clone_inputs(original.spec, params, dict(original.inputs))

        def build(original: RunRecord) -> NewRun:  # the original as it is when the clone is stored
            return NewRun(
                project=original.project,
                name=body.name or original.name,
                description=original.description,
                kind=original.kind,
                content=original.content,
                spec=original.spec,
                plan=None,  # compiled again: paths in a plan belong to one run
                params=params,
                inputs=inputs,
                meta=code_meta(original.uuid, original.meta)
                | {k: original.meta[k] for k in CHILD_META_KEYS if k in original.meta},
                tags=list(original.tags),
                pipeline_uuid=original.pipeline_uuid,
                parent_uuid=original.parent_uuid,
                original_uuid=original.uuid,
                cloning_kind=how,
                executor=original.executor,
                queue=original.queue,
                managed=True,  # it has a polyaxonfile: an executor runs it
            )

        read = _issued_read(run_changes.clone_run(self.db, uuid, build))
        if how == "copy":
            self.store.copy_run(uuid, read.uuid, skip_prefixes=NOT_COPIED)
        self._publish("created", read)
        return read

    def _resume(self, uuid: str, body: CloneRequest) -> RunRead:
        inputs = None
        if body.params:  # checked and typed before the write transaction
            run = gateway.get_run(self.db, uuid)
            self._check_host_access(run.executor, {"params": body.params})
            inputs = clone_inputs(run.spec, {**run.params, **body.params}, dict(run.inputs))

        def check(run: RunRecord) -> None:  # the run as it is, under its lock
            _require_polyaxonfile(run.spec, "resume")
            self._check_host_access(run.executor, {"params": body.params})
            if run.status not in DONE_STATUSES:
                raise InvalidTransition(run.status.value, "resume (only a finished run can be resumed)")
            if run.kind in PIPELINE_KINDS and run.status == RunStatus.SUCCEEDED:
                raise Conflict(_nothing_to_resume(run))

        # New params need a new plan (dropped); whoever ran it before lets go, so that the next
        # scheduler to look claims it again.
        issued, previous = run_changes.resume_run(
            self.db, uuid, check, RESUMED, name=body.name, params=body.params, inputs=inputs
        )
        read = _issued_read(issued)
        # A resumed pipeline's driver, taking it again, restarts the children its stop ended.
        self._publish("status_changed", read, previous)
        return read

    # -- helpers ----------------------------------------------------------------------------------

    def _check_host_access(self, executor: str | None, fields: dict[str, Any]) -> None:
        if (executor or self.default_executor) != "local":  # a local run is on this host already
            check_host_access(fields, self.allow_host_access)

    def _publish(self, kind: Any, read: RunRead, previous: RunStatus | None = None) -> None:
        self.events.publish(RunEvent(kind, read.uuid, read.project, read.status, previous))


_PIPELINE_NOUNS = {
    "matrix": ("sweep", "every trial ran"),
    "dag": ("DAG", "every op ran"),
    "schedule": ("schedule", "it fired all its runs"),
}


def _nothing_to_resume(run: RunRecord) -> str:
    """A succeeded pipeline completed as specified: a resume would continue nothing (and its
    driver would call it succeeded again at once), so it is refused, saying what to do instead."""
    noun, done = _PIPELINE_NOUNS.get(run.kind, ("pipeline", "it completed"))
    return (
        f"cannot resume {noun} {run.uuid[:12]}: it succeeded ({done} as specified), so there is "
        f"nothing left to continue; `mizzen ops restart {run.uuid[:12]}` runs it again as a new {noun}"
    )


def _require_polyaxonfile(spec: dict[str, Any] | None, how: str) -> None:
    """A run made by ``tracking.init()`` outside `mizzen run` has no polyaxonfile: no executor could
    ever run a restart, copy or resume of it, which would wait in ``created`` for ever."""
    if not spec:
        raise Conflict(
            f"cannot {how} this run: it was created by tracking.init() outside `mizzen run` and has no "
            "polyaxonfile to run again; run the script again, or `mizzen run -f FILE` for a managed run"
        )
