"""``HookLoop``: fires the hooks of finished runs, whichever executor ran them.

Where hooks fire: every status change is stored (``StoreRunSource`` for local runs, the API for
the agent's), so the loop lives beside the pipeline driver in the process that serves the store
(``mizzen run`` in embedded mode, ``mizzen server``) and reads the store. Each tick it scans the
runs finished since its cursor (one query; trials and notifier runs are passed over), plus those
with deliveries under way, and for each run with hooks: records in its ``meta["hooks"]`` what fired
(``deliveries.py``), starts one notifier run per attempt (a child: ``parent_uuid`` is the run, kind
``notifier``, created with an idempotency key per attempt, so a crash or two loops at once never
start an attempt twice), and once the attempt's run is done records delivered, or retries after a
backoff, or gives up. At least once: a restarted loop scans back ``lookback`` (24 h) and continues
from the record. ``drain`` lets ``mizzen run`` deliver its run's hooks before it exits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.errors import MizzenError, NotFound
from mizzen.scheduler.hooks.deliveries import (
    HOOKS_KEY,
    RetryPolicy,
    after_attempt,
    is_due,
    is_settled,
    next_due,
    round_of,
)
from mizzen.scheduler.hooks.specs import (
    NOTIFIER_KIND,
    HookError,
    conditions_hold,
    hooks_of,
    notification_of,
    notifier_spec,
    triggers,
)
from mizzen.scheduler.ticking import TickLoop, next_wait
from mizzen.schemas.pipelines import TRIAL_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.spec import HookSpec, load_dict
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import run_changes
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import NewRun, RunRecord

log = logging.getLogger(__name__)

HOOK_META_KEY = "hook"  # on a notifier run: {"run": uuid, "hook": index, "attempt": n}
Created = Callable[[RunRecord], Any]  # told of each notifier run created (wakes the run scheduler)
_SLACK = timedelta(seconds=5)  # re-read this much before the cursor: writers' clocks and commits race


class HookLoop(TickLoop):
    def __init__(
        self,
        database: Database,
        compiler_for: Callable[[RunRecord], Compiler],
        *,
        executor: str,
        on_created: Created | None = None,
        api_url: str | None = None,
        policy: RetryPolicy | None = None,
        poll_interval: float = 0.5,
        lookback: timedelta = timedelta(hours=24),
        page: int = 500,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__("mizzen-hooks", poll_interval)
        self.database = database
        self.compiler_for = compiler_for
        self.executor = executor
        self.on_created = on_created
        self.api_url = api_url
        self.policy = policy or RetryPolicy()
        self.page = page
        self.clock = clock
        self._cursor = clock() - lookback
        self._settled: set[str] = set()  # in the scan window, nothing (more) to do
        self._pending: dict[str, datetime | None] = {}  # run uuid -> when something is next due
        self._hooks: dict[str, list[HookSpec]] = {}
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------

    def drain(self, timeout: float) -> bool:
        """Tick until no delivery is under way (True) or ``timeout`` seconds have passed (False)."""
        deadline = time.monotonic() + timeout
        while True:
            self.tick()
            if not self._pending:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._wake.wait(min(left, self._timeout()))
            self._wake.clear()

    def _timeout(self) -> float:
        due = [moment for moment in self._pending.values() if moment is not None]
        return next_wait(due, self.clock(), self.poll_interval)

    # -- one tick ----------------------------------------------------------------------------------

    def tick(self) -> None:
        with self._lock:
            for uuid in self._scan() | set(self._pending):
                try:
                    self._process(uuid)
                except NotFound:
                    self._pending.pop(uuid, None)
                except Exception:
                    log.exception("run %s: its hooks could not be handled; retried next tick", uuid)

    def _scan(self) -> set[str]:
        """Runs finished since the cursor whose spec names hooks (one query; runs without any are
        never read)."""
        found = runs_gateway.finished_mentioning(self.database, self._cursor, "hooks", limit=self.page)
        if len(found) == self.page:  # more to read: the next tick starts at the last one
            self._cursor = found[-1][3]
        elif found:
            self._cursor = max(self._cursor, found[-1][3] - _SLACK)
        self._settled &= {uuid for uuid, _, _, _ in found}
        candidates: set[str] = set()
        for uuid, kind, meta, finished_at in found:
            if uuid in self._settled or kind == NOTIFIER_KIND or meta.get(TRIAL_KEY):
                continue
            if is_settled(meta.get(HOOKS_KEY), round_of(finished_at)):
                self._settled.add(uuid)
                continue
            candidates.add(uuid)
        return candidates

    def _process(self, uuid: str) -> None:
        run = runs_gateway.get_run(self.database, uuid)
        if run.status not in DONE_STATUSES:  # started again: its next end fires the hooks
            self._pending.pop(uuid, None)
            return
        round_ = round_of(run.finished_at)
        record = run.meta.get(HOOKS_KEY)
        if record is None or record.get("round") != round_:
            hooks = self._hooks_of(run)
            if not hooks:  # recorded all the same: whoever waits on the record sees it settled
                runs_gateway.update_run(
                    self.database, uuid, meta={HOOKS_KEY: {"round": round_, "deliveries": []}}
                )
                self._settle(uuid)
                return
            record = {"round": round_, "deliveries": self._fire(run, hooks)}
            changed = True
        else:
            changed = False
        deliveries, advanced = self._advance(run, record["deliveries"])
        record = {**record, "deliveries": deliveries}
        if changed or advanced:
            runs_gateway.update_run(self.database, uuid, meta={HOOKS_KEY: record})
        if is_settled(record, round_):
            self._settle(uuid)
        else:
            self._pending[uuid] = next_due(record)

    def _settle(self, uuid: str) -> None:
        self._pending.pop(uuid, None)
        self._hooks.pop(uuid, None)
        self._settled.add(uuid)

    # -- firing and advancing deliveries -------------------------------------------------------------

    def _hooks_of(self, run: RunRecord) -> list[HookSpec]:
        hooks = self._hooks.get(run.uuid)
        if hooks is None:
            try:
                hooks = hooks_of(run, self.compiler_for(run))
            except MizzenError as error:  # its spec no longer compiles here: nothing can fire
                log.warning("run %s: cannot read its hooks: %s", run.uuid, error)
                hooks = []
            self._hooks[run.uuid] = hooks
        return hooks

    def _fire(self, run: RunRecord, hooks: list[HookSpec]) -> list[dict[str, Any]]:
        """One delivery per hook that triggers on the run's status."""
        now = self.clock().isoformat()
        deliveries = []
        for index, hook in enumerate(hooks):
            if not triggers(hook, run.status):
                continue
            delivery = {
                "hook": index,
                "hubRef": hook.hub_ref,
                "trigger": hook.trigger or "done",
                "firedAt": now,
                "attempts": 0,
            }
            try:
                holds = conditions_hold(hook, self._notification(run, hook))
            except HookError as error:
                deliveries.append(delivery | {"state": "error", "outcome": str(error)})
                continue
            if holds:
                deliveries.append(delivery | {"state": "due"})
            else:
                deliveries.append(
                    delivery | {"state": "skipped", "outcome": f"conditions false: {hook.conditions}"}
                )
        return deliveries

    def _advance(self, run: RunRecord, deliveries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
        now = self.clock()
        sending = [d["notifier"] for d in deliveries if d.get("state") == "sending" and d.get("notifier")]
        statuses = runs_gateway.statuses_of(self.database, sending) if sending else {}
        result, changed = [], False
        for delivery in deliveries:
            updated: dict[str, Any] | None = None
            if delivery.get("state") == "sending":
                status = statuses.get(delivery.get("notifier") or "")
                why = (
                    self._why(delivery["notifier"])
                    if status is not None and status != RunStatus.SUCCEEDED
                    else ""
                )
                updated = after_attempt(delivery, status, why, now, self.policy)
            if is_due(updated or delivery, now):
                updated = self._attempt(run, updated or delivery)
            result.append(updated or delivery)
            changed |= updated is not None
        return result, changed

    def _attempt(self, run: RunRecord, delivery: dict[str, Any]) -> dict[str, Any]:
        """Start the next attempt: a notifier run (never twice for one attempt)."""
        attempt = int(delivery.get("attempts") or 0) + 1
        hooks = self._hooks_of(run)
        index = int(delivery["hook"])
        if index >= len(hooks):
            return delivery | {"state": "error", "outcome": "the hook is no longer in the run's spec"}
        hook = hooks[index]
        try:
            spec = notifier_spec(run, hook, self._notification(run, hook))
            # A hub component that is missing or does not compile would fail every attempt: said once.
            self.compiler_for(run).compile_loaded(
                load_dict(spec, source=f"hook {index} of run {run.uuid[:12]}")
            )
        except HookError as error:
            return delivery | {"state": "error", "outcome": str(error)}
        except MizzenError as error:
            return delivery | {"state": "error", "outcome": f"its notifier does not compile: {error}"}
        new = NewRun(
            project=run.project,
            name=str(spec["name"]),
            kind=NOTIFIER_KIND,
            spec=spec,
            parent_uuid=run.uuid,
            executor=run.executor or self.executor,
            queue=hook.queue,
            meta={HOOK_META_KEY: {"run": run.uuid, "hook": index, "attempt": attempt}},
        )
        key = f"hooks:{run.uuid}:{round_of(run.finished_at)}:{index}:{attempt}"
        issued = run_changes.create_run(self.database, new, idempotency_key=key)
        if not issued.replayed and self.on_created is not None:
            try:
                self.on_created(issued.detail.run)
            except Exception:
                log.exception("run %s: a listener of created runs failed", issued.detail.run.uuid)
        log.info(
            "run %s: hook %s (%s) attempt %d: %s",
            run.uuid,
            index,
            hook.hub_ref,
            attempt,
            issued.detail.run.uuid,
        )
        return delivery | {
            "state": "sending",
            "attempts": attempt,
            "notifier": issued.detail.run.uuid,
            "nextAt": None,
        }

    def _notification(self, run: RunRecord, hook: HookSpec) -> dict[str, Any]:
        conditions = runs_gateway.conditions_of(self.database, run.uuid)
        return notification_of(run, conditions[-1] if conditions else None, hook, self.api_url)

    def _why(self, notifier: str) -> str:
        try:
            last = runs_gateway.conditions_of(self.database, notifier)[-1:]
        except NotFound:
            return ""
        # the message says the reason, and ends with what the notifier said (HTTP status, refusal)
        return str(last[0].message or last[0].reason or "") if last else ""
