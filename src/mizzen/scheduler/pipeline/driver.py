"""``PipelineDriver``: the loop that drives sweeps, DAGs and schedules.

Each tick it claims created pipelines for its executor, then, for every pipeline it drives,
reads the children from the store, asks the pipeline's planner what to do and applies it: create
children (by key: never twice), stop or restart children, record progress, end the pipeline. It
runs beside the ``RunScheduler`` in ``mizzen run`` and ``mizzen server``; the children it creates
are ordinary runs, claimed and executed by whichever scheduler serves their executor (the local one,
or the agent on Kubernetes). Pipeline state lives in the database only.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.errors import CompileError, InvalidTransition, MizzenError, NotFound
from mizzen.scheduler.pipeline.children import ChildrenCache
from mizzen.scheduler.pipeline.model import Finish, NewChild, PipelineView, Planner, Step
from mizzen.scheduler.pipeline.planners import planner_for
from mizzen.scheduler.pipeline.structure import Structure, structure_of
from mizzen.scheduler.scope import ClaimScope
from mizzen.scheduler.source import new_owner_id, owner_is_gone
from mizzen.scheduler.ticking import TickLoop, next_wait
from mizzen.schemas.pipelines import PIPELINE_KINDS, PIPELINE_STATE_KEY
from mizzen.schemas.run_meta import CACHE_HIT_KEY, CODE_RUN_KEY, UPLOAD_DONE, UPLOAD_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.schemas.transitions import PENDING
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import pipelines as gateway
from mizzen.store.gateway import run_changes, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import ChildRecord, NewRun, RunRecord, StatusMove

log = logging.getLogger(__name__)

# The API's event bus, which wakes the run scheduler when a child is created or asked to stop:
# (event kind, uuid, project, status now, status before, pipeline uuid)
Notify = Callable[[str, str, str, RunStatus, RunStatus | None, str | None], Any]
CompilerFor = Callable[[RunRecord], Compiler]

PIPELINE_STOPPED = "PipelineStopped"  # the reason a child shows when its pipeline stopped it
RESTARTED_REASONS = frozenset({"orphaned", PIPELINE_STOPPED})  # children a taken-over pipeline restarts
_STOPPED_AT_ONCE = PENDING | {RunStatus.UNSCHEDULABLE}


def stop_move(status: RunStatus, reason: str, message: str) -> StatusMove | None:
    """Not started: stopped at once. Running: ``stopping`` (its executor stops it). Done: None."""
    if status in DONE_STATUSES or status == RunStatus.STOPPING:
        return None
    if status in _STOPPED_AT_ONCE:
        return StatusMove(RunStatus.STOPPED, reason, message)
    return StatusMove(RunStatus.STOPPING, reason, message)


def as_planned(child: ChildRecord) -> ChildRecord:
    """A child as planners judge it: a cache hit (``skipped``, reusing a run that succeeded, whose
    outputs it copied) stands for a success, so sweeps count it and a DAG's next ops run."""
    if child.status == RunStatus.SKIPPED and child.meta.get(CACHE_HIT_KEY):
        return dataclasses.replace(child, status=RunStatus.SUCCEEDED)
    return child


class PipelineDriver(TickLoop):
    def __init__(
        self,
        database: Database,
        compiler_for: CompilerFor,
        *,
        executor: str,
        notify: Notify | None = None,
        owner: str | None = None,
        poll_interval: float = 0.5,
        adopt_orphans: bool = False,
        scope: ClaimScope | None = None,
        clock: Callable[[], datetime] = utcnow,
        children: ChildrenCache | None = None,
        claim_every: float = 0.0,
        adopt_every: float = 0.0,
        progress_every: float = 0.0,
    ) -> None:
        super().__init__("mizzen-pipelines", poll_interval)
        self.database = database
        self.compiler_for = compiler_for
        self.executor = executor
        self.notify = notify
        self.owner = owner or new_owner_id()
        self.adopt_orphans = adopt_orphans  # a server takes over pipelines whose driver died
        self.clock = clock
        self.scope = scope  # inside `mizzen run`: only the pipelines this process started
        self._structures: dict[str, Structure] = {}
        self._children = children or ChildrenCache(database)  # a tick reads only what changed
        # A tick runs each time a child ends, so a busy sweep would pay for each of these once per
        # trial. Seconds between two looks for created pipelines (``claim_soon`` asks at once), for
        # dead drivers' pipelines (a query of every unfinished one), and between two writes of a
        # pipeline's progress (shown to users; its end is always written). 0: at every tick.
        self.claim_every = claim_every
        self.adopt_every = adopt_every
        self.progress_every = progress_every
        self._adopted_at: float | None = None
        self._claim_due = threading.Event()
        self._claimed_at: float | None = None
        self._progress: dict[str, Any] = {}  # what was last written: progress, outputs, when
        self._outputs: dict[str, Any] = {}
        self._progress_at: dict[str, float] = {}
        self._wake_at: dict[str, datetime] = {}

    def _timeout(self) -> float:
        return next_wait(self._wake_at.values(), self.clock(), self.poll_interval)

    # -- one tick ----------------------------------------------------------------------------------

    def claim_soon(self) -> None:
        """A run was created or resumed: a pipeline may wait to be claimed. Wakes the driver."""
        self._claim_due.set()
        self.wake()

    def _claiming_due(self) -> bool:
        now = time.monotonic()
        if self._claim_due.is_set() or self._claimed_at is None or now - self._claimed_at >= self.claim_every:
            self._claim_due.clear()
            self._claimed_at = now
            return True
        return False

    def tick(self) -> None:
        taken: list[RunRecord] = []
        if self._claiming_due():
            scope = self.scope.snapshot() if self.scope is not None else None
            taken = gateway.claim_pipelines(self.database, self.executor, self.owner, scope=scope)
        if self.adopt_orphans and self._adoption_due():
            taken += self._adopt()
        for pipeline in taken:
            self._restart_interrupted(pipeline)
        for pipeline in gateway.pipelines_of(self.database, self.owner):
            if self.scope is not None:
                self.scope.add_pipeline(pipeline.uuid)  # its children are this process's to run
            try:
                self.drive(pipeline)
            except NotFound:
                self._forget(pipeline.uuid)  # deleted meanwhile
            except Exception as error:
                log.exception("pipeline %s: driving it failed", pipeline.uuid)
                self._end(
                    pipeline,
                    Finish(RunStatus.FAILED, "PipelineError", f"the pipeline driver failed: {error}"),
                )

    def drive(self, pipeline: RunRecord) -> None:
        if pipeline.status == RunStatus.STOPPING:
            self._wind_down(pipeline)
            return
        try:
            structure = self._structure(pipeline)
        except (CompileError, MizzenError) as error:
            self._end(pipeline, Finish(RunStatus.FAILED, "CompileError", str(error)))
            return
        planner: Planner = planner_for(structure)
        children = self._children.read(
            pipeline.uuid, planner.metrics(structure), planner.histories(structure)
        )
        seen = [as_planned(child) for child in children]
        step = planner.step(PipelineView(pipeline, structure, seen, self.clock()))
        self.apply(pipeline, structure, step, has_children=bool(children))

    # -- applying a step ---------------------------------------------------------------------------

    def apply(self, pipeline: RunRecord, structure: Structure, step: Step, *, has_children: bool) -> None:
        created = self._create(pipeline, structure, step.create) if step.create else []
        for uuid, why in step.stop:
            self._stop_child(uuid, why)
        for uuid in step.resume:
            self._resume_child(uuid, "started again by its pipeline")
        for again in step.resume_with:
            self._resume_child(again.uuid, again.why, params=again.params, meta=again.meta)
        if (created or has_children) and pipeline.status in (RunStatus.COMPILED, RunStatus.QUEUED):
            self._set(pipeline, RunStatus.RUNNING, "PipelineRunning", "its runs are starting")
        self._record(pipeline, step)
        if step.wake_at is not None:
            self._wake_at[pipeline.uuid] = step.wake_at
        else:
            self._wake_at.pop(pipeline.uuid, None)
        if step.finish is not None:
            self._end(pipeline, step.finish)

    def _create(self, pipeline: RunRecord, structure: Structure, children: list[NewChild]) -> list[RunRecord]:
        news = [self._new_run(pipeline, structure, child) for child in children]
        created = gateway.create_children(self.database, pipeline.uuid, news)
        if any(run.kind in PIPELINE_KINDS for run in created):
            self.claim_soon()  # a nested DAG or sweep: claimed by the next tick, at once
        for run in created:
            self._notify("created", run, None)
        return created

    def _new_run(self, pipeline: RunRecord, structure: Structure, child: NewChild) -> NewRun:
        meta = {**structure.child_meta, **child.meta}
        if pipeline.meta.get(UPLOAD_KEY) == UPLOAD_DONE:  # children run the code uploaded with it
            meta |= {UPLOAD_KEY: UPLOAD_DONE, CODE_RUN_KEY: pipeline.meta.get(CODE_RUN_KEY) or pipeline.uuid}
        return NewRun(
            project=pipeline.project,
            name=child.name,
            kind=child.kind,
            spec=child.spec if child.spec is not None else structure.child_spec,
            params=dict(child.params),
            inputs=dict(child.inputs),
            tags=list(child.tags),
            meta=meta,
            pipeline_uuid=pipeline.uuid,
            pipeline_key=child.key,
            executor=pipeline.executor,
            queue=child.queue or pipeline.queue,
            cache_key=child.cache_key,
            status=child.status,
            status_reason=child.reason,
            status_message=child.message,
        )

    def _record(self, pipeline: RunRecord, step: Step) -> None:
        uuid = pipeline.uuid
        if step.progress is None and step.outputs is None:
            return
        new_progress = step.progress is not None and self._progress.get(uuid) != step.progress
        new_outputs = bool(step.outputs) and self._outputs.get(uuid) != step.outputs
        if not new_progress and not new_outputs:
            return
        written_at = self._progress_at.get(uuid)
        now = time.monotonic()
        if step.finish is None and written_at is not None and now - written_at < self.progress_every:
            return  # written again by a later tick (the driver polls), or with the end
        runs_gateway.update_run(
            self.database,
            uuid,
            meta={PIPELINE_STATE_KEY: step.progress} if step.progress is not None else None,
            outputs=step.outputs,
        )
        self._progress_at[uuid] = now
        if step.progress is not None:
            self._progress[uuid] = step.progress
        if step.outputs:
            self._outputs[uuid] = step.outputs

    # -- stopping and ending -----------------------------------------------------------------------

    def _wind_down(self, pipeline: RunRecord) -> None:
        """A stopped pipeline stops its children, and is ``stopped`` once they all are done."""
        children = gateway.children(self.database, pipeline.uuid)
        for child in children:
            if child.status not in DONE_STATUSES:
                self._stop_child(child.uuid, "its pipeline was stopped")
        children = gateway.children(self.database, pipeline.uuid)
        if all(child.status in DONE_STATUSES for child in children):
            self._end(pipeline, Finish(RunStatus.STOPPED, "Stopped", "stopped by the user"))

    def _stop_child(self, uuid: str, why: str) -> None:
        try:
            change = statuses.change_status(
                self.database, uuid, lambda run: stop_move(run.status, PIPELINE_STOPPED, why), history=False
            )
        except NotFound:
            return
        if change.changed:
            kind = "stop_requested" if change.run.status == RunStatus.STOPPING else "status_changed"
            self._notify(kind, change.run, change.previous)

    def _resume_child(
        self, uuid: str, why: str, *, params: dict[str, Any] | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        def check(run: RunRecord) -> None:
            if run.status not in DONE_STATUSES:
                raise InvalidTransition(str(run.status), str(RunStatus.QUEUED))
            if meta and all(run.meta.get(key) == value for key, value in meta.items()):
                raise InvalidTransition("already resumed with this meta", str(RunStatus.QUEUED))

        try:
            issued, previous = run_changes.resume_run(
                self.database,
                uuid,
                check,
                StatusMove(RunStatus.QUEUED, "Resumed", why),
                params=params,
                meta=meta,
            )
        except (NotFound, InvalidTransition):
            return
        self._notify("status_changed", issued.detail.run, previous)

    def _end(self, pipeline: RunRecord, finish: Finish) -> None:
        if pipeline.status in (RunStatus.COMPILED, RunStatus.QUEUED, RunStatus.CREATED) and finish.status in (
            RunStatus.SUCCEEDED,
        ):
            self._set(pipeline, RunStatus.RUNNING, "PipelineRunning", "its runs are starting")
        self._set(pipeline, finish.status, finish.reason, finish.message)
        self._forget(pipeline.uuid)

    def _set(self, pipeline: RunRecord, status: RunStatus, reason: str, message: str) -> None:
        try:
            change = statuses.set_status(self.database, pipeline.uuid, status, reason, message, history=False)
        except InvalidTransition as error:
            log.info("pipeline %s: %s", pipeline.uuid, error)
            return
        except NotFound:  # deleted meanwhile: nothing to end, and the rest of the tick goes on
            self._forget(pipeline.uuid)
            return
        if change.changed:
            self._notify("status_changed", change.run, change.previous)

    def _forget(self, uuid: str) -> None:
        self._structures.pop(uuid, None)
        self._children.forget(uuid)
        self._progress.pop(uuid, None)
        self._outputs.pop(uuid, None)
        self._progress_at.pop(uuid, None)
        self._wake_at.pop(uuid, None)

    # -- letting go --------------------------------------------------------------------------------

    def release(self) -> list[RunRecord]:
        """The process is shutting down with its runs (`mizzen server` stopped): the children of the
        pipelines it drives are stopped as their pipeline's (so `ops resume` starts them again).
        Answers those pipelines, for ``end_released`` once their children are done."""
        pipelines = gateway.pipelines_of(self.database, self.owner)
        for pipeline in pipelines:
            for child in gateway.children(self.database, pipeline.uuid):
                if child.status not in DONE_STATUSES:
                    self._stop_child(child.uuid, "the mizzen process driving its pipeline shut down")
        return pipelines

    def end_released(self, pipelines: list[RunRecord]) -> None:
        why = "the mizzen process driving it shut down; `mizzen ops resume` continues it"
        for pipeline in pipelines:
            try:
                self._set(pipeline, RunStatus.STOPPED, "DriverStopped", why)
            except NotFound:
                continue

    # -- taking pipelines over -----------------------------------------------------------------------

    def _adoption_due(self) -> bool:
        now = time.monotonic()
        if self._adopted_at is not None and now - self._adopted_at < self.adopt_every:
            return False
        self._adopted_at = now
        return True

    def _adopt(self) -> list[RunRecord]:
        """Unfinished pipelines whose driver (a process of this machine) is gone: now ours."""
        adopted = []
        for pipeline in gateway.unfinished_pipelines(self.database, self.executor):
            owner = pipeline.owner
            if owner and owner != self.owner and owner_is_gone(owner):
                taken = gateway.take_over(self.database, pipeline.uuid, owner, self.owner)
                if taken is not None:
                    log.info("pipeline %s: taken over from %s", pipeline.uuid, owner)
                    adopted.append(taken)
        return adopted

    def _restart_interrupted(self, pipeline: RunRecord) -> None:
        """Children that ended with the process that drove them, or because their pipeline was
        stopped, start again when the pipeline is taken (resumed, or adopted by a server)."""
        for uuid in gateway.children_ended_by(self.database, pipeline.uuid, RESTARTED_REASONS):
            self._resume_child(uuid, "started again: its pipeline was resumed")

    # -- helpers -------------------------------------------------------------------------------------

    def _structure(self, pipeline: RunRecord) -> Structure:
        structure = self._structures.get(pipeline.uuid)
        if structure is None:
            structure = self._structures[pipeline.uuid] = structure_of(pipeline, self.compiler_for(pipeline))
        return structure

    def _notify(self, kind: str, run: RunRecord, previous: RunStatus | None) -> None:
        if self.notify is None:
            return
        try:
            self.notify(kind, run.uuid, run.project, run.status, previous, run.pipeline_uuid)
        except Exception:
            log.exception("run %s: an event listener failed", run.uuid)
