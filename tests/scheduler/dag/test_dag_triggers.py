"""Trigger policies: when an op runs over its upstream statuses, and what it becomes when it cannot."""

from __future__ import annotations

import pytest

from mizzen.scheduler.dag.triggers import decide
from mizzen.schemas.statuses import RunStatus as S

OK, KO, SKIP, UF, STOP, RUN = S.SUCCEEDED, S.FAILED, S.SKIPPED, S.UPSTREAM_FAILED, S.STOPPED, S.RUNNING


@pytest.mark.parametrize(
    ("policy", "upstream", "expected"),
    [
        ("all_succeeded", [OK, OK], "run"),
        ("all_succeeded", [OK, RUN], "wait"),
        ("all_succeeded", [OK, None], "wait"),
        ("all_succeeded", [KO, RUN], S.UPSTREAM_FAILED),  # decided without waiting for the rest
        ("all_succeeded", [STOP, OK], S.UPSTREAM_FAILED),
        ("all_succeeded", [SKIP, OK], S.SKIPPED),  # a skipped branch is skipped on, not a failure
        ("all_succeeded", [SKIP, KO], S.UPSTREAM_FAILED),
        ("all_failed", [KO, UF], "run"),
        ("all_failed", [KO, RUN], "wait"),
        ("all_failed", [KO, OK], S.SKIPPED),  # a failure handler with nothing to handle
        ("all_done", [OK, KO], "run"),
        ("all_done", [SKIP, STOP], "run"),
        ("all_done", [OK, RUN], "wait"),
        ("one_succeeded", [KO, OK], "run"),
        ("one_succeeded", [KO, RUN], "wait"),  # Polyaxon gives up here; another may still succeed
        ("one_succeeded", [RUN, OK], "run"),
        ("one_succeeded", [KO, STOP], S.UPSTREAM_FAILED),
        ("one_succeeded", [SKIP, SKIP], S.SKIPPED),
        ("one_failed", [RUN, KO], "run"),
        ("one_failed", [OK, RUN], "wait"),
        ("one_failed", [OK, OK], S.SKIPPED),
        ("one_done", [RUN, STOP], "run"),
        ("one_done", [RUN, None], "wait"),
    ],
)
def test_each_policy_runs_waits_or_says_why_it_never_will(
    policy: str, upstream: list, expected: object
) -> None:
    decision = decide(policy, {f"u{i}": s for i, s in enumerate(upstream)}, skip_on_upstream_skip=False)
    got = "run" if decision.run else "wait" if decision.waits else decision.status
    assert got == expected
    if decision.status is not None:
        assert policy in decision.message and "u" in decision.message


def test_the_reason_names_the_failed_upstream_op_before_a_skipped_one() -> None:
    decision = decide("all_succeeded", {"a": SKIP, "b": KO}, skip_on_upstream_skip=False)
    assert decision.status == UF and decision.reason == "UpstreamFailed"
    assert decision.message == "upstream op b ended failed, and the policy is all_succeeded"


def test_skip_on_upstream_skip_skips_even_where_the_policy_would_run() -> None:
    upstream = {"a": SKIP, "b": OK}
    assert decide("all_done", upstream, skip_on_upstream_skip=False).run
    decision = decide("all_done", upstream, skip_on_upstream_skip=True)
    assert decision.status == SKIP and decision.reason == "UpstreamSkipped" and "op a" in decision.message


def test_an_op_without_upstream_runs_at_once() -> None:
    assert decide("all_succeeded", {}, skip_on_upstream_skip=False).run
    assert decide("one_failed", {}, skip_on_upstream_skip=False).run
