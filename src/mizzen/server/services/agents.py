"""Agents: the processes that run runs elsewhere (``mizzen agent`` on Kubernetes) and talk to the API.

An agent heartbeats, claims created runs meant for its executor (atomically: two agents never get
the same run), asks which of its runs to stop, and lists the runs it owns to adopt them after a
restart. It reports statuses, logs and plans through the ordinary run routes. A claimed run records
its owner (the agent's name) in ``meta.owner``, as the local scheduler does with its owner id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from mizzen.compiler.compile import Compiler
from mizzen.errors import Conflict, InvalidInput, MizzenError
from mizzen.scheduler import joins
from mizzen.scheduler.queues import QueuePolicy
from mizzen.schemas.api import AgentClaim, AgentHeartbeat, AgentRead, AgentRun, AgentStops
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.server.services.validation import check_fields, check_length
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.gateway import agents as agents_gateway
from mizzen.store.gateway import claims, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import AgentRecord, RunRecord

log = logging.getLogger(__name__)

# An agent heartbeats every few seconds; one unseen for this long is shown as unhealthy.
AGENT_HEALTHY_SECONDS = 60
AGENT_NAME_MAX = 255


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > AGENT_NAME_MAX or "/" in name:
        raise InvalidInput(
            f"'{name}' is not an agent name (1 to {AGENT_NAME_MAX} characters, no '/')", field="name"
        )


def _agent_read(record: AgentRecord) -> AgentRead:
    healthy = utcnow() - record.last_seen_at <= timedelta(seconds=AGENT_HEALTHY_SECONDS)
    return AgentRead(
        name=record.name,
        namespace=record.namespace,
        queue=record.queue,
        version=record.version,
        capabilities=dict(record.meta.get("capabilities") or {}),
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
        healthy=healthy,
    )


def _agent_run(run: RunRecord, token: str | None = None) -> AgentRun:
    return AgentRun(
        uuid=run.uuid,
        project=run.project,
        project_uuid=run.project_uuid,
        kind=run.kind,
        name=run.name,
        status=run.status,
        spec=run.spec,
        plan=run.plan,
        params=dict(run.params),
        meta=dict(run.meta),
        original_uuid=run.original_uuid,
        cloning_kind=run.cloning_kind,
        token=token,
    )


class AgentService:
    def __init__(
        self,
        db: Database,
        events: RunEventBus,
        admit: QueuePolicy | None = None,
        join_compiler: Callable[[RunRecord], Compiler] | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.admit = admit  # queue priority and concurrency (the `queues` setting), applied in claims
        self.join_compiler = join_compiler  # reads a claimed run's joins, resolved before it is handed out

    # -- presence ---------------------------------------------------------------------------------

    def heartbeat(self, name: str, body: AgentHeartbeat) -> AgentRead:
        _check_name(name)
        for field, limit in (("namespace", 255), ("queue", 128), ("version", 64)):
            check_length(getattr(body, field), limit, field)
        check_fields(body, ("capabilities",))
        record = agents_gateway.heartbeat(
            self.db,
            name,
            namespace=body.namespace,
            queue=body.queue,
            version=body.version,
            meta={"capabilities": body.capabilities},
        )
        return _agent_read(record)

    def list_agents(self) -> list[AgentRead]:
        return [_agent_read(record) for record in agents_gateway.list_agents(self.db)]

    # -- runs -------------------------------------------------------------------------------------

    def claim(self, name: str, body: AgentClaim, idempotency_key: str | None = None) -> list[AgentRun]:
        """Up to ``limit`` runs waiting for ``executor`` (and ``queue`` when given): created ones, now
        ``compiled``, and resumed ones (``queued``, no owner), now owned by ``name``, each with a fresh
        token. A replayed key answers the same runs again (those still unstarted and still this
        agent's)."""
        _check_name(name)
        check_length(body.queue, 128, "queue")
        key = f"agents:{name}:claim:{idempotency_key}" if idempotency_key else None
        claimed = claims.claim_runs(
            self.db,
            body.executor,
            name,
            limit=body.limit,
            queue=body.queue,
            reason="ClaimedByAgent",
            message=f"claimed by agent {name}",
            idempotency_key=key,
            admit=self.admit,
        )
        for claim in claimed:  # a replay changed nothing: its ``previous`` is the status now
            if claim.previous == RunStatus.CREATED:
                event = RunEvent(
                    "status_changed", claim.run.uuid, claim.run.project, RunStatus.COMPILED, claim.previous
                )
                self.events.publish(event)
        answer = []
        for claim in claimed:
            run = self._with_joins(claim.run)
            if run is not None:
                answer.append(_agent_run(run, claim.token))
        return answer

    def _with_joins(self, run: RunRecord) -> RunRecord | None:
        """The run with its joins resolved (as the local scheduler's claim does); None when they
        cannot be: the run failed, saying why."""
        if self.join_compiler is None:
            return run
        try:
            return joins.resolve_claimed(self.db, run, self.join_compiler(run))
        except MizzenError as error:
            change = statuses.set_status(self.db, run.uuid, RunStatus.FAILED, "JoinError", str(error))
            self.events.publish(
                RunEvent("status_changed", run.uuid, run.project, RunStatus.FAILED, change.previous)
            )
            return None

    def stops(self, name: str, body: AgentStops) -> list[str]:
        """Runs the agent must stop: its runs in ``stopping``, and runs it reports active that are
        already done in the store (stopped before they started, failed by a user) or deleted."""
        _check_name(name)
        active = set(body.active)
        wanted: list[str] = []
        for run in runs_gateway.runs_in_status(self.db, body.executor, RunStatus.STOPPING):
            if run.owner == name:
                wanted.append(run.uuid)
                active.discard(run.uuid)
        statuses = runs_gateway.statuses_of(self.db, active)
        for uuid in sorted(active):
            if uuid not in statuses or statuses[uuid] in DONE_STATUSES:
                wanted.append(uuid)
        return wanted

    def owned(self, name: str, executor: str) -> list[AgentRun]:
        """The agent's unfinished runs (to adopt after a restart), oldest first."""
        _check_name(name)
        return [
            _agent_run(run) for run in runs_gateway.unfinished_runs(self.db, executor) if run.owner == name
        ]

    def reissue_token(self, name: str, uuid: str) -> AgentRun:
        """A fresh token for a run the agent owns and must submit again (it never reached the cluster)."""
        _check_name(name)

        def check(run: RunRecord) -> None:
            if run.owner != name:
                raise Conflict(f"run {uuid} is owned by {run.owner or 'nobody'}, not by agent {name}")
            if run.status in DONE_STATUSES:
                raise Conflict(f"run {uuid} is already {run.status.value}: nothing to submit")

        run, token = claims.reissue_token(self.db, uuid, check)
        return _agent_run(run, token)
