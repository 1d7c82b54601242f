"""``ApiRunSource``: a RunSource over the Mizzen API, for ``mizzen agent`` (which only talks HTTP).

What the executor reports (statuses, logs, plans) goes into one outbox (``mizzen.scheduler.outbox``,
shared with the store's source), in order, and a sender thread delivers it: an executor thread never
waits on the network, and while the API cannot be reached the outbox keeps everything and the sender
retries, so the executor goes on running and nothing is lost or reordered. Claims carry an
idempotency key that is reused until an answer arrives, so a claim whose answer was lost gives the
same runs on the retry instead of leaving them stranded.
"""

from __future__ import annotations

import logging
import threading
import uuid as uuidlib
from typing import Any

from mizzen.client import MizzenClient
from mizzen.client.errors import ApiRequestError, ApiUnreachable
from mizzen.errors import ApiError
from mizzen.scheduler.outbox import Outbox, Report
from mizzen.scheduler.source import ClaimedRun
from mizzen.schemas.api import AgentRun, LogLine, RunUpdate
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus

log = logging.getLogger(__name__)

SERVER_ERROR_RETRIES = 5  # a 5xx answer is retried this many times, then the report is dropped


class ApiRunSource:
    def __init__(
        self,
        client: MizzenClient,
        agent_name: str,
        *,
        executor: str = "kubernetes",
        queue: str | None = None,
        retry_interval: float = 2.0,
    ) -> None:
        self.client = client
        self.agent_name = agent_name
        self.executor = executor
        self.queue = queue
        self.retry_interval = retry_interval
        self._active: set[str] = set()
        self._claim_key: str | None = None
        self._lock = threading.Lock()
        self._reachable = True
        self._outbox = Outbox(self._deliver, name="mizzen-agent-outbox", retry_interval=retry_interval)

    # -- RunSource ---------------------------------------------------------------------------------

    def claim(self, executor: str, owner: str, limit: int) -> list[ClaimedRun]:
        if owner != self.agent_name:
            log.debug("claiming as agent %s (scheduler owner %s)", self.agent_name, owner)
        key = self._claim_key = self._claim_key or uuidlib.uuid4().hex
        try:
            runs = self.client.agents.claim(
                self.agent_name, executor=executor, queue=self.queue, limit=limit, idempotency_key=key
            )
        except ApiError as error:
            self._note_unreachable(error, "claim runs")
            return []  # the same key next time: a claim that did reach the server is answered again
        self._claim_key = None
        self._note_reachable()
        claimed = [claimed_run(run) for run in runs]
        self.track(run.uuid for run in claimed)
        return claimed

    def record_plan(self, uuid: str, plan: dict[str, Any]) -> None:
        self._outbox.put(Report("plan", uuid, plan=plan))

    def report_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        if status in DONE_STATUSES:
            with self._lock:
                self._active.discard(uuid)
        self._outbox.put(Report("status", uuid, status=status, reason=reason, message=message))

    def report_logs(self, uuid: str, lines: list[LogLine]) -> None:
        if lines:
            self._outbox.put(Report("logs", uuid, lines=list(lines)))

    def stop_requested(self, executor: str, owner: str) -> list[str]:
        try:
            answer = self.client.agents.stops(self.agent_name, self.active, executor=executor)
        except ApiError as error:
            self._note_unreachable(error, "ask which runs to stop")
            return []
        self._note_reachable()
        with self._lock:  # told once is enough: runs in `stopping` are listed by the API anyway
            self._active.difference_update(answer)
        return answer

    def use_cache(self, uuid: str, key: str, ttl: int | None) -> str | None:
        try:
            hit = self.client.flow.check_cache(self.agent_name, uuid, key, ttl).hit
        except ApiError as error:  # no answer: run it (a cache is an optimisation, never a blocker)
            self._note_unreachable(error, f"check the cache for run {uuid}")
            return None
        if hit is not None:
            with self._lock:
                self._active.discard(uuid)
        return hit

    # -- what the agent process needs besides the protocol ----------------------------------------

    @property
    def active(self) -> set[str]:
        """Runs this agent has claimed or adopted and not yet reported done."""
        with self._lock:
            return set(self._active)

    def track(self, uuids: Any) -> None:
        with self._lock:
            self._active.update(uuids)

    def owned_runs(self) -> list[AgentRun]:
        """The agent's unfinished runs (raises ``ApiError`` when the API cannot answer)."""
        return self.client.agents.runs(self.agent_name, executor=self.executor)

    def reclaim(self, uuid: str) -> ClaimedRun:
        """A run of this agent that never reached the cluster, with a fresh token to submit it again."""
        run = claimed_run(self.client.agents.reissue_token(self.agent_name, uuid))
        self.track([run.uuid])
        return run

    @property
    def pending(self) -> int:
        """Reports waiting in the outbox."""
        return self._outbox.pending

    @property
    def dropped_log_lines(self) -> int:
        return self._outbox.dropped_log_lines

    def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty (True) or ``timeout`` seconds have passed (False)."""
        return self._outbox.flush(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is buffered (waiting at most ``timeout`` seconds), then stop the sender."""
        if not self._outbox.close(timeout):
            log.warning("agent exits with %d reports the API did not receive", self.pending)

    # -- delivering the outbox ---------------------------------------------------------------------

    def _deliver(self, item: Report) -> bool:
        """Send one report; False when the API could not be reached (the report stays)."""
        try:
            self._send(item)
        except ApiUnreachable as error:
            self._note_unreachable(error, f"report {item.kind} of run {item.uuid}")
            return False
        except ApiRequestError as error:
            if error.status_code is not None and error.status_code >= 500:
                item.failures += 1
                if item.failures < SERVER_ERROR_RETRIES:
                    log.warning("run %s: the API failed on %s (%s); will retry", item.uuid, item.kind, error)
                    return False
            # 404: the run was deleted; 409: the status machine refused the status; 4xx: bad report.
            log.info("run %s: the API refused %s: %s", item.uuid, item.describe(), error)
        self._note_reachable()
        return True

    def _send(self, item: Report) -> None:
        if item.kind == "status":
            assert item.status is not None
            self.client.statuses.set(item.uuid, item.status, item.reason, item.message)
        elif item.kind == "logs":
            self.client.logs.append(item.uuid, item.lines)
        else:
            self.client.runs.update(item.uuid, RunUpdate(plan=item.plan))

    def _note_unreachable(self, error: ApiError, what: str) -> None:
        if isinstance(error, ApiUnreachable):
            if self._reachable:
                log.warning("cannot %s: %s; retrying until it answers", what, error)
            self._reachable = False
        else:
            log.warning("cannot %s: %s", what, error)

    def _note_reachable(self) -> None:
        if not self._reachable:
            log.warning("the Mizzen API answers again")
        self._reachable = True


def claimed_run(run: AgentRun) -> ClaimedRun:
    return ClaimedRun(
        uuid=run.uuid,
        project=run.project,
        project_uuid=run.project_uuid,
        kind=run.kind,
        name=run.name,
        spec=run.spec,
        params=dict(run.params),
        token=run.token,
        meta=dict(run.meta),
        original_uuid=run.original_uuid,
        cloning_kind=run.cloning_kind,
    )
