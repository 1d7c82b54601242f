"""Queries a scheduler loop needs: runs waiting for an executor, runs it must stop, runs unfinished."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, text, true
from sqlalchemy.orm import Session

from mizzen.schemas.pipelines import PIPELINE_KINDS
from mizzen.schemas.run_meta import APPROVED_KEY, OWNER_KEY, UPLOAD_KEY, UPLOAD_PENDING
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.json_sql import json_bool, json_text
from mizzen.store.orm import RunRow
from mizzen.store.repos.runs import rotate_token, update_run
from mizzen.store.repos.statuses import set_status

# (run uuids, pipeline uuids): a scoped claim takes only those runs and those pipelines' children.
Scope = tuple[Collection[str], Collection[str]]


def in_scope(scope: Scope | None) -> ColumnElement[bool]:
    """Runs a scoped scheduler may claim: its roots, and children of its pipelines (None: all)."""
    if scope is None:
        return true()
    roots, pipelines = scope
    return or_(RunRow.uuid.in_(sorted(roots)), RunRow.pipeline_uuid.in_(sorted(pipelines)))


def created_runs(
    session: Session, executor: str, *, limit: int, queue: str | None = None, scope: Scope | None = None
) -> Sequence[RunRow]:
    """The oldest managed runs waiting for ``executor`` — created, or queued again by a resume (no
    owner yet) — whose code is not still uploading; locked for the caller's transaction (PostgreSQL
    skips rows another scheduler holds; SQLite write sessions hold the whole database). Runs that
    ``tracking.init()`` created (unmanaged) belong to the script that tracks them: never claimed.
    Pipelines (sweeps, DAGs, schedules) are the pipeline driver's, and runs held for approval wait."""
    owner = json_text(RunRow.meta, OWNER_KEY)
    upload = json_text(RunRow.meta, UPLOAD_KEY)
    approved = json_bool(RunRow.meta, APPROVED_KEY)
    waiting = or_(
        RunRow.status == RunStatus.CREATED.value,
        and_(RunRow.status == RunStatus.QUEUED.value, owner.is_(None)),
    )
    query = select(RunRow).where(
        RunRow.executor == executor,
        RunRow.managed.is_(True),
        waiting,
        or_(upload.is_(None), upload != UPLOAD_PENDING),
        or_(approved.is_(None), approved != "false"),
        RunRow.kind.not_in(sorted(PIPELINE_KINDS)),
        in_scope(scope),
    )
    if queue is not None:
        query = query.where(RunRow.queue == queue)
    query = (
        query.order_by(RunRow.created_at, RunRow.id).limit(limit).with_for_update(skip_locked=True, of=RunRow)
    )
    return session.scalars(query).all()


@dataclass
class Claim:
    run: RunRow
    token: str  # a fresh API token for the run (only its hash is stored)
    previous: RunStatus  # created (now compiled) or queued (a resumed run, left queued)


# (waiting (uuid, queue) oldest first, active runs per queue, limit) -> the uuids to claim, in order
Admit = Callable[[Sequence[tuple[str, str | None]], Mapping[str, int], int], list[str]]
ADMIT_WINDOW = 512  # how many of the oldest waiting runs an admission looks at
# PostgreSQL advisory lock: claims that count queue slots take turns. The window's row locks already
# keep two claims from taking the same waiting runs; this keeps them from both counting free slots
# when more runs wait than one window holds.
_QUEUE_LOCK = 0x6D697A7A


def claim_runs(
    session: Session,
    executor: str,
    owner: str,
    *,
    limit: int,
    queue: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    admit: Admit | None = None,
    scope: Scope | None = None,
) -> list[Claim]:
    """Take up to ``limit`` waiting runs for ``owner``: each records its owner and gets a fresh
    token; a created run moves to ``compiled``, a resumed one stays ``queued``. With ``admit`` (the
    scheduler's queue policy) the runs are those it picks among the oldest waiting ones, given how
    many runs of each queue are active now (claims counting slots take turns on PostgreSQL)."""
    if admit is None:
        runs = list(created_runs(session, executor, limit=limit, queue=queue, scope=scope))
    else:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _QUEUE_LOCK})
        waiting = {
            run.uuid: run
            for run in created_runs(session, executor, limit=ADMIT_WINDOW, queue=queue, scope=scope)
        }
        queues = {run.queue for run in waiting.values() if run.queue is not None}
        chosen = admit(
            [(run.uuid, run.queue) for run in waiting.values()], active_per_queue(session, queues), limit
        )
        runs = [waiting[uuid] for uuid in chosen if uuid in waiting]
    claims = []
    for run in runs:
        previous = RunStatus(run.status)
        token = rotate_token(run)
        update_run(session, run, meta={OWNER_KEY: owner})
        if previous == RunStatus.CREATED:
            set_status(session, run, RunStatus.COMPILED, reason, message)
        claims.append(Claim(run, token, previous))
    return claims


def runs_in_status(session: Session, executor: str, status: RunStatus) -> Sequence[RunRow]:
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status == status.value)
    return session.scalars(query).all()


def unfinished_runs(session: Session, executor: str) -> Sequence[RunRow]:
    done = [s.value for s in DONE_STATUSES]
    query = select(RunRow).where(RunRow.executor == executor, RunRow.status.not_in(done))
    return session.scalars(query).all()


def active_per_queue(session: Session, queues: set[str]) -> dict[str, int]:
    """Runs of each of ``queues`` taken by a scheduler and not finished (pipelines not counted: their
    children are)."""
    if not queues:
        return {}
    owner = json_text(RunRow.meta, OWNER_KEY)
    waiting = or_(
        RunRow.status == RunStatus.CREATED.value,
        and_(RunRow.status == RunStatus.QUEUED.value, owner.is_(None)),
    )
    done = [s.value for s in DONE_STATUSES]
    query = (
        select(RunRow.queue, func.count())
        .where(
            RunRow.queue.in_(sorted(queues)),
            RunRow.status.not_in(done),
            ~waiting,
            RunRow.kind.not_in(sorted(PIPELINE_KINDS)),
        )
        .group_by(RunRow.queue)
    )
    return {str(name): int(count) for name, count in session.execute(query).all()}
