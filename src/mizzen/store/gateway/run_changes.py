"""Creating, cloning, resuming and deleting runs: each one transaction, records out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from mizzen.errors import Conflict
from mizzen.schemas.run_meta import OWNER_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, read_session, write_session
from mizzen.store.gateway._rows import run_detail, run_record
from mizzen.store.records import IssuedRun, NewRun, RunRecord, StatusMove
from mizzen.store.repos import code_refs, idempotency, statuses
from mizzen.store.repos import runs as repo


def create_run(
    db: Database, new: NewRun, *, idempotency_key: str | None = None, now: datetime | None = None
) -> IssuedRun:
    """A new run and its API token (only the token's hash is stored); ``Conflict`` when ``new.uuid``
    names an existing run. With an ``idempotency_key`` (store-wide, scoped by the caller) a replayed
    call creates nothing: it answers the first call's run with a fresh token, ``replayed`` set."""
    with write_session(db) as session:
        if (
            idempotency_key is not None
            and (answer := idempotency.recall(session, idempotency_key)) is not None
        ):
            row = repo.get_run(session, answer["uuid"])
            token = repo.rotate_token(row)
            return IssuedRun(run_detail(session, row), token, replayed=True)
        if new.uuid is not None and repo.find_run(session, new.uuid) is not None:
            raise Conflict(f"a run with uuid {new.uuid} already exists")
        row, token = repo.create_run(session, new, now=now)
        if idempotency_key is not None:
            idempotency.remember(session, idempotency_key, {"uuid": row.uuid})
        return IssuedRun(run_detail(session, row, new=True), token)


def clone_run(db: Database, uuid: str, build: Callable[[RunRecord], NewRun]) -> IssuedRun:
    """A new run made by ``build`` from run ``uuid`` as it is now (read in the same transaction), and
    its API token. ``build`` must only look at the record (no network, no waiting)."""
    with write_session(db) as session:
        row, token = repo.create_run(session, build(run_record(repo.get_run(session, uuid))))
        return IssuedRun(run_detail(session, row, new=True), token)


def resume_run(
    db: Database,
    uuid: str,
    check: Callable[[RunRecord], None],
    move: StatusMove,
    *,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[IssuedRun, RunStatus]:
    """Start finished run ``uuid`` again, after ``check(run)`` (which raises to refuse) accepted it
    under its lock: renamed when ``name`` is given; new ``params`` (and their ``inputs``) merge in
    and drop the plan, which they invalidate; ``meta`` merges in (in the same transaction, so a
    pipeline's record of why it resumed the run is never lost); its owner lets go (the next
    scheduler claims it); it moves to ``move`` and gets a fresh token.
    Answers the run and its status before."""
    with write_session(db) as session:
        row = repo.get_run(session, uuid, for_update=True)
        previous = RunStatus(row.status)
        check(run_record(row))
        changes: dict[str, Any] = {"name": name}
        if params:
            changes.update(params=params, inputs=inputs, clear_plan=True)
        if meta:
            changes["meta"] = meta
        repo.update_run(session, row, **changes)
        row.meta = {k: v for k, v in (row.meta or {}).items() if k != OWNER_KEY}
        statuses.set_status(session, row, move.status, move.reason, move.message, resume=True)
        token = repo.rotate_token(row)
        return IssuedRun(run_detail(session, row), token), previous


def delete_run(db: Database, uuid: str) -> RunRecord:
    """Delete the run (its metrics, statuses and lineage go with it); answers the run as it was, for
    the caller to clean up after this call (and its transaction) has returned."""
    with write_session(db) as session:
        record = run_record(repo.get_run(session, uuid))
        repo.delete_run(session, uuid)
        return record


def code_refs_of(db: Database, uuids: Iterable[str], code_runs: Iterable[str]) -> tuple[set[str], set[str]]:
    """Of ``uuids`` and ``code_runs``, those whose uploaded code a run still names (meta
    ``code_run``); and of ``code_runs``, those that are no longer runs."""
    wanted, code_runs = set(uuids), set(code_runs)
    with read_session(db) as session:
        in_use = code_refs.code_in_use(session, wanted | code_runs)
        gone = code_runs - code_refs.existing_runs(session, code_runs)
    return in_use, gone
