"""Claiming runs to execute them: atomic, so that two schedulers or agents never get the same run."""

from __future__ import annotations

from collections.abc import Callable

from mizzen.schemas.statuses import RunStatus
from mizzen.store.database import Database, write_session
from mizzen.store.gateway._rows import run_record
from mizzen.store.records import ClaimedRunRecord, RunRecord
from mizzen.store.repos import idempotency, scheduling
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos.runs import rotate_token

# A replayed claim answers again the runs that are still waiting to start under the same owner.
_UNSTARTED = (RunStatus.COMPILED.value, RunStatus.QUEUED.value)


def claim_runs(
    db: Database,
    executor: str,
    owner: str,
    *,
    limit: int,
    queue: str | None = None,
    reason: str | None = None,
    message: str | None = None,
    idempotency_key: str | None = None,
    admit: scheduling.Admit | None = None,
    scope: scheduling.Scope | None = None,
) -> list[ClaimedRunRecord]:
    """Take up to ``limit`` runs waiting for ``executor`` (and ``queue`` when given) for ``owner``:
    each records its owner and gets a fresh token; a created run moves to ``compiled`` (with
    ``reason``/``message``), a resumed one stays ``queued``. With a ``scope`` (run uuids, pipeline
    uuids) only those runs and those pipelines' children are taken.

    ``admit`` (the scheduler's ``QueuePolicy``) picks the runs, by queue priority and within each
    queue's concurrency.

    With an ``idempotency_key`` (store-wide, scoped by the caller) a replayed call claims nothing
    new: it answers the runs of the first call that are still unstarted and still ``owner``'s, each
    with a fresh token, and ``previous`` set to their status now (nothing changed).
    """
    with write_session(db) as session:
        if (
            idempotency_key is not None
            and (answer := idempotency.recall(session, idempotency_key)) is not None
        ):
            replayed = []
            for uuid in answer.get("uuids", []):
                row = runs_repo.find_run(session, uuid, for_update=True)
                if row is None or row.status not in _UNSTARTED or run_record(row).owner != owner:
                    continue
                token = rotate_token(row)
                replayed.append(ClaimedRunRecord(run_record(row), token, RunStatus(row.status)))
            return replayed
        claims = scheduling.claim_runs(
            session,
            executor,
            owner,
            limit=limit,
            queue=queue,
            reason=reason,
            message=message,
            admit=admit,
            scope=scope,
        )
        claimed = [ClaimedRunRecord(run_record(claim.run), claim.token, claim.previous) for claim in claims]
        if idempotency_key is not None:
            idempotency.remember(session, idempotency_key, {"uuids": [c.run.uuid for c in claimed]})
    return claimed


def reissue_token(db: Database, uuid: str, check: Callable[[RunRecord], None]) -> tuple[RunRecord, str]:
    """A fresh API token for run ``uuid``, after ``check(run)`` (which raises to refuse, e.g. with
    ``Conflict``) accepted the run as it is now, under the run's lock. ``check`` runs inside the
    transaction: it must only look at the record (no network, no waiting)."""
    with write_session(db) as session:
        row = runs_repo.get_run(session, uuid, for_update=True)
        check(run_record(row))
        token = rotate_token(row)
        return run_record(row), token
