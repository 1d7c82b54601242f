"""Lineage: the artifacts a run produced or consumed."""

from __future__ import annotations

from collections.abc import Sequence

from mizzen.store.database import Database, read_session, write_session
from mizzen.store.records import LineageRecord
from mizzen.store.repos import lineage as repo
from mizzen.store.repos import runs as runs_repo


def record_lineage(db: Database, run_uuid: str, records: Sequence[LineageRecord]) -> list[LineageRecord]:
    """Link run ``run_uuid`` to each artifact (one per project, its summary the latest given), in one
    transaction; returns the run's whole lineage."""
    with write_session(db) as session:
        run = runs_repo.get_run(session, run_uuid)
        return repo.record_lineage(session, run, list(records))


def list_lineage(db: Database, run_uuid: str) -> list[LineageRecord]:
    """The run's lineage, oldest first."""
    with read_session(db) as session:
        return repo.list_lineage(session, runs_repo.run_id_of(session, run_uuid))
