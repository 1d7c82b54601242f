"""After `mizzen run` watched its run end: follow the run's hook deliveries (``meta.hooks``, which the
hook loop records) for a bounded time, saying what it waits for and each attempt's outcome (the
HTTP status, a refused connection), so a failing hook is never a silent wait."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from mizzen.cli.output import err_console

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import RunRead

_POLL = 0.25
_FINAL = frozenset({"delivered", "failed", "skipped", "error"})


def mentions_hooks(run: RunRead) -> bool:
    return '"hooks"' in json.dumps(run.spec or {})


def delivery_text(delivery: dict[str, Any]) -> str:
    """``hook 0 (webhook, on done): failed after 5 attempts: ...`` — one delivery on one line."""
    name = f"hook {delivery.get('hook')} ({delivery.get('hubRef') or '-'}, on {delivery.get('trigger')})"
    state = str(delivery.get("state"))
    outcome = delivery.get("outcome")
    if state == "retrying" and delivery.get("nextAt"):
        left = (datetime.fromisoformat(delivery["nextAt"]) - datetime.now(UTC)).total_seconds()
        return f"{name}: {outcome}, next attempt in {max(0.0, left):.0f}s"
    if state == "sending":
        notifier = str(delivery.get("notifier"))[:8]
        return f"{name}: attempt {delivery.get('attempts')} sending (notifier run {notifier})"
    return f"{name}: {state}" + (f" ({outcome})" if outcome and outcome != state else "")


def wait_for_hooks(client: MizzenClient, run: RunRead, timeout: float) -> None:
    """``timeout``: the ``hooks_wait_seconds`` setting (``MIZZEN_HOOKS_WAIT_SECONDS``)."""
    if not mentions_hooks(run):
        return
    err_console.print(
        f"[dim]hooks: waiting up to {timeout:.0f}s for the hook deliveries of run {run.uuid[:8]}[/dim]",
        soft_wrap=True,
    )
    deadline = time.monotonic() + timeout
    shown: dict[int, str] = {}
    deliveries: list[dict[str, Any]] = []
    while True:
        record = client.runs.get(run.uuid).meta.get("hooks") or {}
        deliveries = record.get("deliveries") or []
        for index, delivery in enumerate(deliveries):
            key = f"{delivery.get('state')}:{delivery.get('attempts')}"
            if shown.get(index) != key:
                shown[index] = key
                final = delivery.get("state") in _FINAL
                style = "green" if delivery.get("state") == "delivered" else ("red" if final else "yellow")
                err_console.print(f"[{style}]{escape(delivery_text(delivery))}[/{style}]", soft_wrap=True)
        if record and all(d.get("state") in _FINAL for d in deliveries):
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(_POLL)
    waiting = "; ".join(delivery_text(d) for d in deliveries if d.get("state") not in _FINAL)
    err_console.print(
        f"[yellow]hooks: still under way after {timeout:.0f}s ({escape(waiting or 'not fired yet')}); "
        f"the next `mizzen run` or `mizzen server` on this store goes on delivering them; "
        f"`mizzen ops get {run.uuid[:8]}` shows them[/yellow]",
        soft_wrap=True,
    )
