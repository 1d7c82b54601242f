"""Pipeline runs (sweeps, DAGs, schedules) and their children: claims, child listings, idempotent
creation by key, progress counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mizzen.schemas.pipelines import PIPELINE_KINDS
from mizzen.schemas.run_meta import APPROVED_KEY, OWNER_KEY, UPLOAD_KEY, UPLOAD_PENDING
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.store.json_sql import json_bool, json_text
from mizzen.store.orm import MetricRow, MetricSummaryRow, RunRow, StatusConditionRow
from mizzen.store.records import NewRun
from mizzen.store.repos.runs import create_run, update_run
from mizzen.store.repos.scheduling import Scope, in_scope
from mizzen.store.repos.statuses import set_status

_DONE = [s.value for s in DONE_STATUSES]
RESUMED_REASON = "Resumed"  # the reason of the condition a resume writes
# The columns a driver reads of each child (not its spec: a 10,000-trial sweep repeats it 10,000 times).
CHILD_COLUMNS = (
    RunRow.uuid,
    RunRow.pipeline_key,
    RunRow.name,
    RunRow.kind,
    RunRow.status,
    RunRow.params,
    RunRow.inputs,
    RunRow.outputs,
    RunRow.meta,
    RunRow.created_at,
    RunRow.started_at,
    RunRow.finished_at,
    RunRow.updated_at,
)


def _approved() -> Any:
    """Not held for approval: ``meta.approved`` absent or not false."""
    flag = json_bool(RunRow.meta, APPROVED_KEY)
    return (flag.is_(None)) | (flag != "false")


def _claimable(executor: str, scope: Scope | None = None) -> Any:
    """Created (or resumed: queued without an owner) pipelines for ``executor``, approved, whose
    code is not still uploading."""
    owner_of = json_text(RunRow.meta, OWNER_KEY)
    waiting = (RunRow.status == RunStatus.CREATED.value) | and_(
        RunRow.status == RunStatus.QUEUED.value, owner_of.is_(None)
    )
    upload = json_text(RunRow.meta, UPLOAD_KEY)
    return and_(
        RunRow.kind.in_(sorted(PIPELINE_KINDS)),
        RunRow.executor == executor,
        waiting,
        _approved(),
        (upload.is_(None)) | (upload != UPLOAD_PENDING),
        in_scope(scope),
    )


def any_claimable(session: Session, executor: str, scope: Scope | None = None) -> bool:
    """Whether a pipeline waits for a driver (a read: no write lock for a tick with nothing new)."""
    query = select(RunRow.id).where(_claimable(executor, scope)).limit(1)
    return session.execute(query).first() is not None


def claim_pipelines(
    session: Session, executor: str, owner: str, *, limit: int, scope: Scope | None = None
) -> list[RunRow]:
    """Claimable pipelines (``_claimable``), now ``owner``'s; each created one moves to ``compiled``."""
    query = (
        select(RunRow)
        .where(_claimable(executor, scope))
        .order_by(RunRow.created_at, RunRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=RunRow)
    )
    rows = list(session.scalars(query).all())
    for row in rows:
        update_run(session, row, meta={OWNER_KEY: owner})
        if row.status == RunStatus.CREATED.value:
            host = owner.split(":", maxsplit=1)[0]
            set_status(session, row, RunStatus.COMPILED, "PipelineStarted", f"driven by {host}")
    return rows


def pipelines_of(session: Session, owner: str) -> Sequence[RunRow]:
    """Unfinished pipelines ``owner`` drives."""
    return session.scalars(
        select(RunRow).where(
            RunRow.kind.in_(sorted(PIPELINE_KINDS)),
            RunRow.status.not_in(_DONE),
            json_text(RunRow.meta, OWNER_KEY) == owner,
        )
    ).all()


def unfinished_pipelines(session: Session, executor: str) -> Sequence[RunRow]:
    return session.scalars(
        select(RunRow).where(
            RunRow.kind.in_(sorted(PIPELINE_KINDS)),
            RunRow.executor == executor,
            RunRow.status.not_in(_DONE),
        )
    ).all()


def children(session: Session, pipeline_uuid: str) -> list[tuple[Any, ...]]:
    """Rows of ``CHILD_COLUMNS`` of every child, in creation order."""
    query = (
        select(*CHILD_COLUMNS)
        .where(RunRow.pipeline_uuid == pipeline_uuid)
        .order_by(RunRow.created_at, RunRow.id)
    )
    return [tuple(row) for row in session.execute(query).all()]


def children_changed(session: Session, pipeline_uuid: str, since: datetime) -> list[tuple[Any, ...]]:
    """Rows of ``CHILD_COLUMNS`` of the children not done, or changed at ``since`` or later."""
    query = (
        select(*CHILD_COLUMNS)
        .where(
            RunRow.pipeline_uuid == pipeline_uuid,
            RunRow.status.not_in(_DONE) | (RunRow.updated_at >= since),
        )
        .order_by(RunRow.created_at, RunRow.id)
    )
    return [tuple(row) for row in session.execute(query).all()]


def children_touched(
    session: Session, pipeline_uuid: str, since: datetime
) -> list[tuple[str, str, datetime]]:
    """``(uuid, status, updated_at)`` of the children not done, or changed at ``since`` or later: a
    light read (no JSON) that tells a driver which of them it must read again."""
    query = select(RunRow.uuid, RunRow.status, RunRow.updated_at).where(
        RunRow.pipeline_uuid == pipeline_uuid,
        RunRow.status.not_in(_DONE) | (RunRow.updated_at >= since),
    )
    return [(uuid, status, updated_at) for uuid, status, updated_at in session.execute(query).all()]


def children_by_uuid(session: Session, pipeline_uuid: str, uuids: Iterable[str]) -> list[tuple[Any, ...]]:
    """Rows of ``CHILD_COLUMNS`` of the children ``uuids``, in creation order."""
    query = (
        select(*CHILD_COLUMNS)
        .where(RunRow.pipeline_uuid == pipeline_uuid, RunRow.uuid.in_(sorted(set(uuids))))
        .order_by(RunRow.created_at, RunRow.id)
    )
    return [tuple(row) for row in session.execute(query).all()]


def children_count(session: Session, pipeline_uuid: str) -> int:
    query = select(func.count()).select_from(RunRow).where(RunRow.pipeline_uuid == pipeline_uuid)
    return int(session.execute(query).scalar_one())


def child_metrics(
    session: Session, pipeline_uuid: str, names: Iterable[str], uuids: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """``{child uuid: {metric: last value}}`` for the metrics ``names`` of a pipeline's children
    (of those in ``uuids`` only, when given)."""
    names = sorted(set(names))
    if not names:
        return {}
    query = (
        select(RunRow.uuid, MetricSummaryRow.name, MetricSummaryRow.last)
        .join(MetricSummaryRow, MetricSummaryRow.run_id == RunRow.id)
        .where(RunRow.pipeline_uuid == pipeline_uuid, MetricSummaryRow.name.in_(names))
    )
    if uuids is not None:
        query = query.where(RunRow.uuid.in_(sorted(set(uuids))))
    found: dict[str, dict[str, float]] = {}
    for uuid, name, last in session.execute(query).all():
        found.setdefault(uuid, {})[name] = float(last)
    return found


def child_metric_histories(
    session: Session, pipeline_uuid: str, names: Iterable[str], uuids: Iterable[str] | None = None
) -> dict[str, dict[str, tuple[float, ...]]]:
    """``{child uuid: {metric: every value, in step order}}`` for the metrics ``names`` of a
    pipeline's children (of those in ``uuids`` only, when given). Points without a step come in the
    order they were logged (time, then insertion)."""
    names = sorted(set(names))
    if not names:
        return {}
    query = (
        select(RunRow.uuid, MetricRow.name, MetricRow.value)
        .join(MetricRow, MetricRow.run_id == RunRow.id)
        .where(RunRow.pipeline_uuid == pipeline_uuid, MetricRow.name.in_(names))
        .order_by(
            RunRow.uuid, MetricRow.name, func.coalesce(MetricRow.step, -1), MetricRow.timestamp, MetricRow.id
        )
    )
    if uuids is not None:
        query = query.where(RunRow.uuid.in_(sorted(set(uuids))))
    found: dict[str, dict[str, list[float]]] = {}
    for uuid, name, value in session.execute(query).all():
        found.setdefault(uuid, {}).setdefault(name, []).append(float(value))
    return {
        uuid: {name: tuple(values) for name, values in by_name.items()} for uuid, by_name in found.items()
    }


def status_counts(session: Session, pipeline_uuid: str) -> dict[str, int]:
    """How many children are in each status: a pipeline's progress in one query."""
    query = (
        select(RunRow.status, func.count())
        .where(RunRow.pipeline_uuid == pipeline_uuid)
        .group_by(RunRow.status)
    )
    return {status: int(count) for status, count in session.execute(query).all()}


def existing_keys(session: Session, pipeline_uuid: str, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    query = select(RunRow.pipeline_key).where(
        RunRow.pipeline_uuid == pipeline_uuid, RunRow.pipeline_key.in_(keys)
    )
    return {key for key in session.scalars(query).all() if key is not None}


def create_child(session: Session, new: NewRun) -> RunRow | None:
    """Insert a child unless its key is taken (by an earlier driver, or one running beside this
    one): None then. A savepoint keeps the caller's transaction usable after a lost race."""
    try:
        with session.begin_nested():
            row, _ = create_run(session, new)
            session.flush()
    except IntegrityError:
        return None
    return row


def children_uuids(session: Session, pipeline_uuid: str) -> list[str]:
    return list(session.scalars(select(RunRow.uuid).where(RunRow.pipeline_uuid == pipeline_uuid)).all())


def take_over(session: Session, uuid: str, old_owner: str, new_owner: str) -> RunRow | None:
    """Make ``new_owner`` the driver of pipeline ``uuid`` if ``old_owner`` still is (else None)."""
    from mizzen.store.repos.runs import find_run

    row = find_run(session, uuid, for_update=True)
    if row is None or (row.meta or {}).get(OWNER_KEY) != old_owner or row.status in _DONE:
        return None
    update_run(session, row, meta={OWNER_KEY: new_owner})
    return row


def children_ended_by(session: Session, pipeline_uuid: str, reasons: Iterable[str]) -> list[str]:
    """Done children that one of ``reasons`` ended since they last started: a child stopped with
    ``PipelineStopped`` whose executor then wrote its own reason on the final ``stopped`` still counts;
    one resumed since (reason ``Resumed``) and ended otherwise does not."""
    wanted = set(reasons)
    query = (
        select(RunRow.uuid, StatusConditionRow.id, StatusConditionRow.reason)
        .join(StatusConditionRow, StatusConditionRow.run_id == RunRow.id)
        .where(
            RunRow.pipeline_uuid == pipeline_uuid,
            RunRow.status.in_(_DONE),
            StatusConditionRow.reason.in_(sorted(wanted | {RESUMED_REASON})),
        )
    )
    latest: dict[str, tuple[int, str]] = {}
    for uuid, condition_id, reason in session.execute(query).all():
        if uuid not in latest or condition_id > latest[uuid][0]:
            latest[uuid] = (condition_id, str(reason))
    return [uuid for uuid, (_, reason) in latest.items() if reason in wanted]
