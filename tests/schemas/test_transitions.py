from __future__ import annotations

import pytest

from mizzen.errors import InvalidTransition
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.schemas.transitions import ALLOWED, can_transition, transition

S = RunStatus


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.CREATED, S.QUEUED),
        (S.CREATED, S.RUNNING),  # a run made by tracking.init() outside `mizzen run`
        (S.QUEUED, S.SCHEDULED),
        (S.SCHEDULED, S.STARTING),
        (S.STARTING, S.RUNNING),
        (S.RUNNING, S.SUCCEEDED),
        (S.RUNNING, S.RETRYING),
        (S.RETRYING, S.QUEUED),
        (S.RETRYING, S.STARTING),
        (S.SCHEDULED, S.UNSCHEDULABLE),
        (S.UNSCHEDULABLE, S.RUNNING),
        (S.RUNNING, S.WARNING),
        (S.WARNING, S.RUNNING),
        (S.RUNNING, S.STOPPING),
        (S.STOPPING, S.STOPPED),
        (S.STOPPING, S.SUCCEEDED),  # it finished on its own before the kill landed
        (S.QUEUED, S.SKIPPED),
        (S.CREATED, S.UPSTREAM_FAILED),
        (S.CREATED, S.FAILED),  # e.g. it does not compile
        (S.QUEUED, S.STOPPED),
    ],
)
def test_allowed_transitions(current: RunStatus, new: RunStatus) -> None:
    transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.SUCCEEDED, S.RUNNING),
        (S.FAILED, S.QUEUED),  # only through resume
        (S.STOPPED, S.RUNNING),
        (S.RUNNING, S.QUEUED),
        (S.RUNNING, S.CREATED),
        (S.QUEUED, S.SUCCEEDED),  # never ran
        (S.RUNNING, S.SKIPPED),
        (S.STOPPING, S.RUNNING),
    ],
)
def test_forbidden_transitions_raise(current: RunStatus, new: RunStatus) -> None:
    with pytest.raises(InvalidTransition) as error:
        transition(current, new)
    assert error.value.current == current.value
    assert error.value.new == new.value
    assert f"'{current.value}'" in str(error.value)


@pytest.mark.parametrize("done", sorted(DONE_STATUSES))
def test_done_statuses_are_final_except_resume_to_queued(done: RunStatus) -> None:
    assert all(not can_transition(done, other) for other in RunStatus if other != done)
    transition(done, S.QUEUED, resume=True)
    assert not can_transition(done, S.RUNNING, resume=True)


def test_resume_only_leaves_done_statuses() -> None:
    with pytest.raises(InvalidTransition):
        transition(S.RUNNING, S.QUEUED, resume=True)


def test_staying_in_a_status_is_allowed() -> None:
    for status in RunStatus:
        transition(status, status)


def test_the_table_places_every_status() -> None:
    assert set(ALLOWED) == set(RunStatus)
    for targets in ALLOWED.values():
        assert targets <= set(RunStatus)
