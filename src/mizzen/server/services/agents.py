"""Agents: the processes that run runs elsewhere (``mizzen agent`` on Kubernetes) and talk to the API.

An agent heartbeats, claims created runs meant for its executor (atomically: two agents never get
the same run), asks which of its runs to stop, and lists the runs it owns to adopt them after a
restart. It reports statuses, logs and plans through the ordinary run routes. A claimed run records
its owner (the agent's name) in ``meta.owner``, as the local scheduler does with its owner id.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from mizzen.errors import Conflict, InvalidInput
from mizzen.schemas.api import AgentClaim, AgentHeartbeat, AgentRead, AgentRun, AgentStops
from mizzen.schemas.run_meta import OWNER_KEY
from mizzen.schemas.statuses import DONE_STATUSES, RunStatus
from mizzen.server.services.events import RunEvent, RunEventBus
from mizzen.server.services.validation import check_fields, check_length
from mizzen.store import Database
from mizzen.store.clock import utcnow
from mizzen.store.orm import AgentRow, RunRow
from mizzen.store.repos import agents as agents_repo
from mizzen.store.repos import idempotency, scheduling
from mizzen.store.repos import runs as runs_repo

log = logging.getLogger(__name__)

# An agent heartbeats every few seconds; one unseen for this long is shown as unhealthy.
AGENT_HEALTHY_SECONDS = 60
AGENT_NAME_MAX = 255


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > AGENT_NAME_MAX or "/" in name:
        raise InvalidInput(
            f"'{name}' is not an agent name (1 to {AGENT_NAME_MAX} characters, no '/')", field="name"
        )


def _agent_read(row: AgentRow) -> AgentRead:
    meta = dict(row.meta or {})
    healthy = utcnow() - row.last_seen_at <= timedelta(seconds=AGENT_HEALTHY_SECONDS)
    return AgentRead(
        name=row.name,
        namespace=row.namespace,
        queue=row.queue,
        version=row.version,
        capabilities=dict(meta.get("capabilities") or {}),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        healthy=healthy,
    )


def _agent_run(run: RunRow, token: str | None = None) -> AgentRun:
    return AgentRun(
        uuid=run.uuid,
        project=run.project.name,
        project_uuid=run.project.uuid,
        kind=run.kind,
        name=run.name,
        status=RunStatus(run.status),
        spec=run.spec,
        plan=run.plan,
        params=dict(run.params or {}),
        meta=dict(run.meta or {}),
        original_uuid=run.original_uuid,
        cloning_kind=run.cloning_kind,
        token=token,
    )


def _owned_by(run: RunRow, name: str) -> bool:
    return (run.meta or {}).get(OWNER_KEY) == name


class AgentService:
    def __init__(self, db: Database, events: RunEventBus) -> None:
        self.db = db
        self.events = events

    # -- presence ---------------------------------------------------------------------------------

    def heartbeat(self, name: str, body: AgentHeartbeat) -> AgentRead:
        _check_name(name)
        for field, limit in (("namespace", 255), ("queue", 128), ("version", 64)):
            check_length(getattr(body, field), limit, field)
        check_fields(body, ("capabilities",))
        with self.db.write() as session:
            row = agents_repo.heartbeat(
                session,
                name,
                namespace=body.namespace,
                queue=body.queue,
                version=body.version,
                meta={"capabilities": body.capabilities},
            )
            return _agent_read(row)

    def list_agents(self) -> list[AgentRead]:
        with self.db.read() as session:
            return [_agent_read(row) for row in agents_repo.list_agents(session)]

    # -- runs -------------------------------------------------------------------------------------

    def claim(self, name: str, body: AgentClaim, idempotency_key: str | None = None) -> list[AgentRun]:
        """Up to ``limit`` runs waiting for ``executor`` (and ``queue`` when given): created ones, now
        ``compiled``, and resumed ones (``queued``, no owner), now owned by ``name``, each with a fresh
        token. A replayed key answers the same runs again."""
        _check_name(name)
        check_length(body.queue, 128, "queue")
        key = f"agents:{name}:claim:{idempotency_key}" if idempotency_key else None
        with self.db.write() as session:
            if key is not None and (answer := idempotency.recall(session, key)) is not None:
                return self._replay(session, name, list(answer.get("uuids", [])))
            claims = scheduling.claim_runs(
                session,
                body.executor,
                name,
                limit=body.limit,
                queue=body.queue,
                reason="ClaimedByAgent",
                message=f"claimed by agent {name}",
            )
            claimed = [_agent_run(claim.run, claim.token) for claim in claims]
            changed = [(claim.run.uuid, claim.previous) for claim in claims]
            if key is not None:
                idempotency.remember(session, key, {"uuids": [read.uuid for read in claimed]})
        for read, (_, previous) in zip(claimed, changed, strict=True):
            if previous == RunStatus.CREATED:
                self.events.publish(
                    RunEvent("status_changed", read.uuid, read.project, RunStatus.COMPILED, previous)
                )
        return claimed

    def _replay(self, session: Any, name: str, uuids: list[str]) -> list[AgentRun]:
        """The runs of a claim whose answer was lost: those still unstarted and still this agent's."""
        runs: list[AgentRun] = []
        for uuid in uuids:
            found = runs_repo.find_run(session, uuid, for_update=True)
            unstarted = found is not None and found.status in (
                RunStatus.COMPILED.value,
                RunStatus.QUEUED.value,
            )
            if found is None or not _owned_by(found, name) or not unstarted:
                continue
            runs.append(_agent_run(found, runs_repo.rotate_token(found)))
        return runs

    def stops(self, name: str, body: AgentStops) -> list[str]:
        """Runs the agent must stop: its runs in ``stopping``, and runs it reports active that are
        already done in the store (stopped before they started, failed by a user) or deleted."""
        _check_name(name)
        active = set(body.active)
        wanted: list[str] = []
        with self.db.read() as session:
            for run in scheduling.runs_in_status(session, body.executor, RunStatus.STOPPING):
                if _owned_by(run, name):
                    wanted.append(run.uuid)
                    active.discard(run.uuid)
            for uuid in sorted(active):
                found = runs_repo.find_run(session, uuid)
                if found is None or RunStatus(found.status) in DONE_STATUSES:
                    wanted.append(uuid)
        return wanted

    def owned(self, name: str, executor: str) -> list[AgentRun]:
        """The agent's unfinished runs (to adopt after a restart), oldest first."""
        _check_name(name)
        with self.db.read() as session:
            runs = [run for run in scheduling.unfinished_runs(session, executor) if _owned_by(run, name)]
            runs.sort(key=lambda run: (run.created_at, run.id))
            return [_agent_run(run) for run in runs]

    def reissue_token(self, name: str, uuid: str) -> AgentRun:
        """A fresh token for a run the agent owns and must submit again (it never reached the cluster)."""
        _check_name(name)
        with self.db.write() as session:
            run = runs_repo.get_run(session, uuid, for_update=True)
            if not _owned_by(run, name):
                owner = (run.meta or {}).get(OWNER_KEY) or "nobody"
                raise Conflict(f"run {uuid} is owned by {owner}, not by agent {name}")
            if RunStatus(run.status) in DONE_STATUSES:
                raise Conflict(f"run {uuid} is already {run.status}: nothing to submit")
            return _agent_run(run, runs_repo.rotate_token(run))
