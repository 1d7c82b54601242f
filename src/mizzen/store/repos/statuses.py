"""``set_status``: the only code that writes a run's status.

It asks the status machine (``mizzen.schemas.transitions.transition``) first, then records a condition
and keeps started_at / finished_at / duration true.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.schemas.transitions import transition
from mizzen.store.clock import utcnow
from mizzen.store.orm import RunRow, StatusConditionRow

_WRITING = ContextVar("mizzen_writing_status", default=False)


@event.listens_for(RunRow.status, "set")
def _only_set_status_writes(_target: Any, _value: Any, _old: Any, _initiator: Any) -> None:
    if not _WRITING.get():
        raise RuntimeError("a run's status is written only by mizzen.store.repos.statuses.set_status")


def set_status(
    session: Session,
    run: RunRow,
    status: RunStatus | str,
    reason: str | None = None,
    message: str | None = None,
    *,
    now: datetime | None = None,
    resume: bool = False,
) -> bool:
    """Move ``run`` to ``status``; returns False when nothing changed (same status, same reason and
    message). Raises ``InvalidTransition`` when the status machine forbids the move."""
    status = RunStatus(status)
    current = RunStatus(run.status) if run.status else None
    if current is not None:
        transition(current, status, resume=resume)
        if current == status and reason is None and message is None:
            return False
        if current == status and _last_condition_matches(session, run, reason, message):
            return False
    now = now or utcnow()
    if resume:
        run.started_at = run.finished_at = run.duration = None
    if status == RunStatus.RUNNING and run.started_at is None:
        run.started_at = now
    if status in DONE_STATUSES and current not in DONE_STATUSES:
        run.finished_at = now
        run.duration = (now - run.started_at).total_seconds() if run.started_at else None
    writing = _WRITING.set(True)
    try:
        run.status = status.value
    finally:
        _WRITING.reset(writing)
    run.updated_at = now
    if run.id is None:  # a new run: its first status is written here too, and it needs an id
        session.add(run)
        session.flush()
    session.add(
        StatusConditionRow(run_id=run.id, type=status.value, reason=reason, message=message, time=now)
    )
    session.flush()
    return True


def list_conditions(session: Session, run_id: int) -> list[StatusConditionRow]:
    return list(
        session.scalars(
            select(StatusConditionRow)
            .where(StatusConditionRow.run_id == run_id)
            .order_by(StatusConditionRow.id)
        )
    )


def _last_condition_matches(session: Session, run: RunRow, reason: str | None, message: str | None) -> bool:
    last = session.scalars(
        select(StatusConditionRow)
        .where(StatusConditionRow.run_id == run.id)
        .order_by(StatusConditionRow.id.desc())
        .limit(1)
    ).first()
    return last is not None and last.reason == reason and last.message == message
