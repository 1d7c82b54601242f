"""Idempotency keys: a retried request (same client key) gets the first answer instead of applying
twice. The key is recorded in the same transaction as the change it guards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mizzen.store.clock import utcnow
from mizzen.store.orm import IdempotencyRow


def recall(session: Session, key: str) -> dict[str, Any] | None:
    return session.scalar(select(IdempotencyRow.response).where(IdempotencyRow.key == key))


def remember(session: Session, key: str, response: dict[str, Any], *, now: datetime | None = None) -> None:
    session.add(IdempotencyRow(key=key, response=response, created_at=now or utcnow()))
    session.flush()


def forget_older_than(session: Session, moment: datetime) -> int:
    result = session.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < moment))
    return int(getattr(result, "rowcount", 0) or 0)
