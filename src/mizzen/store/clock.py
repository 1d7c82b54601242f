"""The store's notion of "now" (UTC, timezone-aware); tests pass explicit times instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
