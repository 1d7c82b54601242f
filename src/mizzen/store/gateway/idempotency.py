"""Idempotency keys: the answers kept for retried requests, and their expiry."""

from __future__ import annotations

from datetime import datetime

from mizzen.store.database import Database, write_session
from mizzen.store.repos import idempotency as repo


def forget_older_than(db: Database, moment: datetime) -> int:
    """Drop the answers recorded before ``moment``; returns how many were dropped."""
    with write_session(db) as session:
        return repo.forget_older_than(session, moment)
