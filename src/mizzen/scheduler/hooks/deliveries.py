"""The record of a run's hook deliveries, kept in its ``meta["hooks"]`` (durable: a restarted loop
continues from it), and the pure decision of what to do next with each delivery.

``{"round": <finished_at>, "deliveries": [{"hook": 0, "hubRef": "webhook", "trigger": "done",
"state": "sending", "attempts": 2, "notifier": <uuid of the attempt's run>, "firedAt": ...,
"nextAt": ..., "outcome": "..."}, ...]}``. A run that finishes again (resumed, restarted in place)
starts a new round. States: ``due`` → ``sending`` (a notifier run is on its way) → ``delivered``,
or ``retrying`` (after a backoff) → ... → ``failed`` once the attempts are spent; ``skipped`` when
the hook's conditions are false; ``error`` when the hook cannot fire as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

HOOKS_KEY = "hooks"  # in a run's meta
FINAL_STATES = frozenset({"delivered", "failed", "skipped", "error"})
WAITING_STATES = frozenset({"due", "retrying"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_backoff: float = 1.0  # seconds before the 2nd attempt; doubled for each next one
    max_backoff: float = 60.0

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1)))


def round_of(finished_at: datetime | None) -> str:
    return finished_at.isoformat() if finished_at is not None else "unfinished"


def is_settled(record: dict[str, Any] | None, round_: str) -> bool:
    return (
        record is not None
        and record.get("round") == round_
        and all(d.get("state") in FINAL_STATES for d in record.get("deliveries") or [])
    )


def after_attempt(
    delivery: dict[str, Any], status: RunStatus | None, reason: str, now: datetime, policy: RetryPolicy
) -> dict[str, Any] | None:
    """A ``sending`` delivery once its notifier run is done (None while it runs): delivered, or
    retried after a backoff, or failed when the attempts are spent. A deleted notifier run counts as
    a failed attempt."""
    if status is not None and status not in DONE_STATUSES:
        return None
    attempts = int(delivery.get("attempts") or 0)
    if status == RunStatus.SUCCEEDED:
        return delivery | {"state": "delivered", "deliveredAt": now.isoformat(), "outcome": "delivered"}
    what = f"attempt {attempts} {status.value if status else 'deleted'}" + (f": {reason}" if reason else "")
    if attempts >= policy.max_attempts:
        return delivery | {"state": "failed", "outcome": f"{what}; gave up after {attempts} attempts"}
    next_at = now + policy.backoff(attempts)
    return delivery | {"state": "retrying", "nextAt": next_at.isoformat(), "outcome": f"{what}; retrying"}


def is_due(delivery: dict[str, Any], now: datetime) -> bool:
    if delivery.get("state") not in WAITING_STATES:
        return False
    next_at = delivery.get("nextAt")
    return next_at is None or datetime.fromisoformat(next_at) <= now


def next_due(record: dict[str, Any]) -> datetime | None:
    """When the earliest waiting delivery is due (None when none waits)."""
    moments = [
        datetime.fromisoformat(d["nextAt"])
        for d in record.get("deliveries") or []
        if d.get("state") in WAITING_STATES and d.get("nextAt")
    ]
    return min(moments, default=None)
