"""The run status machine: which status may follow which.

``transition(current, new)`` is the one gate every status change passes (the store's ``set_status``
calls it before writing). Done statuses are final; the only way out of one is an explicit resume
(``transition(done, QUEUED, resume=True)``), which reuses the run.
"""

from __future__ import annotations

from mizzen.errors import InvalidTransition
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

S = RunStatus

# Before anything runs: the scheduler may still skip the run or fail it for an upstream.
PENDING = frozenset({S.CREATED, S.ON_SCHEDULE, S.COMPILED, S.QUEUED})
# Handed to an executor, possibly running.
ACTIVE = frozenset({S.SCHEDULED, S.STARTING, S.RUNNING, S.PROCESSING})
# Reported by an executor while active: problems that may resolve themselves.
TROUBLED = frozenset({S.WARNING, S.UNSCHEDULABLE, S.UNKNOWN, S.RETRYING})
NOT_DONE = PENDING | ACTIVE | TROUBLED | {S.STOPPING}

# Every status can be stopped or failed while it is not done.
_ENDINGS = frozenset({S.STOPPING, S.STOPPED, S.FAILED})
_SUCCESS_FROM = ACTIVE | {S.WARNING, S.UNKNOWN, S.STOPPING}

ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    S.CREATED: frozenset(
        {S.ON_SCHEDULE, S.COMPILED, S.QUEUED, S.SKIPPED, S.UPSTREAM_FAILED, S.UNSCHEDULABLE} | ACTIVE
    )
    | _ENDINGS,
    S.ON_SCHEDULE: frozenset({S.COMPILED, S.QUEUED, S.SKIPPED, S.UPSTREAM_FAILED} | ACTIVE) | _ENDINGS,
    S.COMPILED: frozenset({S.QUEUED, S.SKIPPED, S.UPSTREAM_FAILED, S.UNSCHEDULABLE} | ACTIVE) | _ENDINGS,
    S.QUEUED: frozenset({S.SKIPPED, S.UPSTREAM_FAILED, S.UNSCHEDULABLE} | ACTIVE) | _ENDINGS,
    S.SCHEDULED: frozenset({S.STARTING, S.RUNNING, S.PROCESSING, S.SUCCEEDED} | TROUBLED) | _ENDINGS,
    S.STARTING: frozenset({S.RUNNING, S.PROCESSING, S.SUCCEEDED} | TROUBLED) | _ENDINGS,
    S.RUNNING: frozenset({S.PROCESSING, S.SUCCEEDED} | TROUBLED) | _ENDINGS,
    S.PROCESSING: frozenset({S.SUCCEEDED, S.WARNING, S.UNKNOWN, S.RETRYING}) | _ENDINGS,
    S.WARNING: ACTIVE | frozenset({S.SUCCEEDED, S.UNSCHEDULABLE, S.UNKNOWN, S.RETRYING}) | _ENDINGS,
    S.UNSCHEDULABLE: frozenset({S.QUEUED, S.WARNING, S.UNKNOWN, S.RETRYING}) | ACTIVE | _ENDINGS,
    S.UNKNOWN: ACTIVE | frozenset({S.SUCCEEDED, S.WARNING, S.UNSCHEDULABLE, S.RETRYING}) | _ENDINGS,
    # A retry starts the next attempt from the queue or straight at the executor.
    S.RETRYING: frozenset({S.QUEUED, S.UNSCHEDULABLE, S.WARNING, S.UNKNOWN}) | ACTIVE | _ENDINGS,
    # The executor confirms the stop; a run that finished on its own before the kill keeps its result.
    S.STOPPING: frozenset({S.STOPPED, S.FAILED, S.SUCCEEDED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.STOPPED: frozenset(),
    S.SKIPPED: frozenset(),
    S.UPSTREAM_FAILED: frozenset(),
}

RESUMABLE = DONE_STATUSES


def can_transition(current: RunStatus | str, new: RunStatus | str, *, resume: bool = False) -> bool:
    """Whether ``current -> new`` is allowed. Staying in the same status is always allowed."""
    current, new = RunStatus(current), RunStatus(new)
    if current == new:
        return True
    if resume:
        return current in RESUMABLE and new == S.QUEUED
    return new in ALLOWED[current]


def transition(current: RunStatus | str, new: RunStatus | str, *, resume: bool = False) -> None:
    """Raise ``InvalidTransition`` unless a run in ``current`` may move to ``new``."""
    if not can_transition(current, new, resume=resume):
        raise InvalidTransition(str(RunStatus(current)), str(RunStatus(new)))


# The table covers every status exactly once: a new status must be placed in it on purpose.
assert set(ALLOWED) == set(RunStatus)
assert set(RunStatus) == NOT_DONE | DONE_STATUSES
