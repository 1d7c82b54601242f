"""The status reporter: what a watch shows out of order still reaches the store in an order the
status machine accepts, each status once."""

from __future__ import annotations

from tests.executors.kubernetes.support import assert_transitions_valid
from tests.executors.support import Recorder

from mizzen.executors.kubernetes.reporting import StatusReporter
from mizzen.schemas.statuses import RunStatus

S = RunStatus


def _reported(*steps: tuple[RunStatus, bool], last: RunStatus | None = None) -> list[RunStatus]:
    recorder = Recorder()
    reporter = StatusReporter("u", recorder, last=last)
    for status, ran in steps:
        reporter.report(status, ran=ran)
    statuses = recorder.statuses("u")
    assert_transitions_valid(([last] if last else []) + statuses)
    return statuses


def test_an_end_seen_first_is_preceded_by_the_steps_the_run_went_through() -> None:
    assert _reported((S.QUEUED, False), (S.SCHEDULED, False), (S.SUCCEEDED, True)) == [
        S.QUEUED, S.SCHEDULED, S.STARTING, S.RUNNING, S.SUCCEEDED,
    ]  # fmt: skip
    # a failure before anything ran (an image that never pulled) says only that it failed
    assert _reported((S.SCHEDULED, False), (S.FAILED, False)) == [S.SCHEDULED, S.FAILED]


def test_an_older_snapshot_never_moves_a_run_back() -> None:
    steps = [
        (S.SCHEDULED, False),
        (S.RUNNING, True),
        (S.STARTING, False),
        (S.SCHEDULED, False),
        (S.RUNNING, True),
    ]
    assert _reported(*steps) == [S.SCHEDULED, S.STARTING, S.RUNNING]


def test_a_retry_starts_a_new_attempt_and_a_warning_can_recover() -> None:
    steps = [
        (S.RUNNING, True), (S.RETRYING, False), (S.SCHEDULED, False), (S.STARTING, False), (S.WARNING, False),
        (S.STARTING, False), (S.RUNNING, True), (S.SUCCEEDED, True),
    ]  # fmt: skip
    assert _reported(*steps, last=S.SCHEDULED) == [
        S.STARTING, S.RUNNING, S.RETRYING, S.STARTING, S.WARNING, S.STARTING, S.RUNNING, S.SUCCEEDED,
    ]  # fmt: skip


def test_once_stopping_only_the_end_is_news_and_the_end_is_final() -> None:
    steps = [(S.RUNNING, True), (S.STOPPING, False), (S.RUNNING, True), (S.STOPPED, False), (S.FAILED, True)]
    assert _reported(*steps, last=S.SCHEDULED) == [S.STARTING, S.RUNNING, S.STOPPING, S.STOPPED]


def test_an_adopted_run_goes_on_from_its_stored_status() -> None:
    assert _reported((S.STARTING, False), (S.RUNNING, True), (S.SUCCEEDED, True), last=S.RUNNING) == [
        S.SUCCEEDED
    ]


def test_a_new_reason_is_news_the_same_one_is_not() -> None:
    recorder = Recorder()
    reporter = StatusReporter("u", recorder, last=S.RUNNING)
    for restarts in (3, 3, 4):
        reporter.report(S.WARNING, f"crash loop: main restarted {restarts} times")
    assert [e.reason for e in recorder.events] == [
        "crash loop: main restarted 3 times", "crash loop: main restarted 4 times",
    ]  # fmt: skip
