"""Which runs' uploaded code other runs still use (a restart or copy runs its original's upload)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from mizzen.schemas.run_meta import CODE_RUN_KEY
from mizzen.store.json_sql import json_text
from mizzen.store.orm import RunRow


def code_in_use(session: Session, uuids: Iterable[str]) -> set[str]:
    """Those of ``uuids`` whose uploaded code an existing run names in its meta ``code_run``."""
    wanted = set(uuids)
    if not wanted:
        return set()
    owner = json_text(RunRow.meta, CODE_RUN_KEY)
    return set(session.scalars(select(owner).where(owner.in_(wanted)).distinct()).all())


def existing_runs(session: Session, uuids: Iterable[str]) -> set[str]:
    wanted = set(uuids)
    if not wanted:
        return set()
    return set(session.scalars(select(RunRow.uuid).where(RunRow.uuid.in_(wanted))).all())
