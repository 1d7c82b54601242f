"""When an op of a DAG may start: its trigger policy over the statuses of its upstream ops.

``decide(policy, upstream)`` answers one of: wait (not decided yet), run, or the status the op is
created in because it never will run — ``upstream_failed`` when a failure upstream is the cause,
``skipped`` otherwise (a failure handler with nothing to handle; a branch skipped upstream).

Polyaxon decides as soon as enough upstream ops are done: an ``one_*`` policy at the first one
done, an ``all_*`` policy once all are. Where that would give up too early (``one_succeeded`` whose
first finished upstream failed while another still runs), Mizzen waits until the policy can no
longer hold, which is what a user expects; ``docs/dags.md`` lists the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

ALL_SUCCEEDED = "all_succeeded"
ALL_FAILED = "all_failed"
ALL_DONE = "all_done"
ONE_SUCCEEDED = "one_succeeded"
ONE_FAILED = "one_failed"
ONE_DONE = "one_done"

FAILED_STATUSES = frozenset({RunStatus.FAILED, RunStatus.UPSTREAM_FAILED})
# Upstream outcomes that break a policy wanting success and are failures (not skips) downstream.
_BROKEN = frozenset({RunStatus.FAILED, RunStatus.UPSTREAM_FAILED, RunStatus.STOPPED})


@dataclass(frozen=True)
class Decision:
    run: bool = False
    status: RunStatus | None = None  # skipped / upstream_failed: created so, never runs
    reason: str = ""
    message: str = ""

    @property
    def waits(self) -> bool:
        return not self.run and self.status is None


WAIT = Decision()
RUN = Decision(run=True)


def _matches(policy: str, status: RunStatus) -> bool:
    if policy in (ALL_SUCCEEDED, ONE_SUCCEEDED):
        return status == RunStatus.SUCCEEDED
    if policy in (ALL_FAILED, ONE_FAILED):
        return status in FAILED_STATUSES
    return status in DONE_STATUSES  # all_done, one_done


def decide(policy: str, upstream: Mapping[str, RunStatus | None], *, skip_on_upstream_skip: bool) -> Decision:
    """``upstream[op]``: that op's status now (None: not created yet). No upstream: run now."""
    skipped = sorted(name for name, status in upstream.items() if status == RunStatus.SKIPPED)
    if skip_on_upstream_skip and skipped:
        return Decision(
            status=RunStatus.SKIPPED,
            reason="UpstreamSkipped",
            message=f"upstream op {skipped[0]} was skipped (skipOnUpstreamSkip)",
        )
    if not upstream:
        return RUN
    done = {name: status for name, status in upstream.items() if status in DONE_STATUSES}
    matching = sorted(name for name, status in done.items() if _matches(policy, status))
    if policy.startswith("one_"):
        if matching:
            return RUN
        if len(done) < len(upstream):
            return WAIT
        return _never(policy, done, f"none of its upstream ops ({', '.join(sorted(done))}) matched {policy}")
    misfits = sorted(name for name, status in done.items() if not _matches(policy, status))
    if misfits:
        first = next((name for name in misfits if done[name] in _BROKEN), misfits[0])
        return _never(policy, done, f"upstream op {first} ended {done[first]}, and the policy is {policy}")
    if len(done) < len(upstream):
        return WAIT
    return RUN


def _never(policy: str, done: Mapping[str, RunStatus], why: str) -> Decision:
    """The policy can no longer hold: a failure upstream makes it ``upstream_failed``, else skipped."""
    broken = sorted(name for name, status in done.items() if status in _BROKEN)
    if policy in (ALL_SUCCEEDED, ONE_SUCCEEDED) and broken:
        return Decision(status=RunStatus.UPSTREAM_FAILED, reason="UpstreamFailed", message=why)
    return Decision(status=RunStatus.SKIPPED, reason="TriggerNotMet", message=why)
