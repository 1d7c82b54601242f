"""``StoreRunSource``: a RunSource over the metadata store, for schedulers living beside the API
(``mizzen run`` in embedded mode, ``mizzen server``).

Reports (statuses, logs, plans) go through the same outbox as the agent's (``mizzen.scheduler.outbox``),
delivered inline: stored by the reporting thread while the database answers; when it fails (locked,
restarting, a connection lost), kept in order and retried by the outbox's sender until stored, so a
brief database error never leaves a run ``running`` forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mizzen.compiler.compile import Compiler
from mizzen.errors import InvalidTransition, MizzenError, NotFound
from mizzen.scheduler import joins
from mizzen.scheduler.outbox import Outbox, Report
from mizzen.scheduler.queues import QueuePolicy
from mizzen.scheduler.scope import ClaimScope
from mizzen.scheduler.source import ClaimedRun, owner_is_gone
from mizzen.schemas.api import LogLine
from mizzen.schemas.pipelines import PIPELINE_KINDS
from mizzen.schemas.run_meta import CACHE_HIT_KEY, ORPHANED_REASON, UPLOAD_KEY, UPLOAD_PENDING, UPLOADER_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database, is_unavailable
from mizzen.store.gateway import claims, flow, statuses
from mizzen.store.gateway import runs as runs_gateway
from mizzen.store.records import RunRecord

log = logging.getLogger(__name__)

LogSink = Callable[[str, list[LogLine]], Any]
StatusListener = Callable[[str, str, RunStatus, RunStatus | None], Any]  # uuid, project, new, previous

# A report the database refuses with an error that is not an outage (a bug) is retried this long,
# then dropped (logged): it must not hold back every report behind it forever.
GIVE_UP_AFTER_SECONDS = 300.0


class StoreRunSource:
    def __init__(
        self,
        database: Database,
        log_sink: LogSink,
        on_status_changed: StatusListener | None = None,
        *,
        retry_interval: float = 2.0,
        scope: ClaimScope | None = None,
        admit: QueuePolicy | None = None,
        join_compiler: Callable[[RunRecord], Compiler] | None = None,
    ) -> None:
        self.database = database
        self.scope = scope  # inside `mizzen run`: only the runs this process started
        self.admit = admit  # queue priority and concurrency, applied inside each claim
        self.join_compiler = join_compiler  # reads a claimed run's joins (resolved before it compiles)
        self.log_sink = log_sink
        self.on_status_changed = on_status_changed
        self._outbox = Outbox(
            self._deliver, name="mizzen-store-outbox", retry_interval=retry_interval, inline=True
        )

    def claim(self, executor: str, owner: str, limit: int) -> list[ClaimedRun]:
        claimed = []
        for claim in claims.claim_runs(
            self.database,
            executor,
            owner,
            limit=limit,
            admit=self.admit,
            scope=self.scope.snapshot() if self.scope is not None else None,
        ):
            run = self._with_joins(claim.run)
            if run is None:
                continue
            claimed.append(
                ClaimedRun(
                    uuid=run.uuid,
                    project=run.project,
                    project_uuid=run.project_uuid,
                    kind=run.kind,
                    name=run.name,
                    spec=run.spec,
                    params=dict(run.params),
                    token=claim.token,
                    meta=dict(run.meta),
                    original_uuid=run.original_uuid,
                    cloning_kind=run.cloning_kind,
                )
            )
        return claimed

    def _with_joins(self, run: RunRecord) -> RunRecord | None:
        """The run with its joins resolved; None when they cannot be (the run fails, saying why)."""
        if self.join_compiler is None:
            return run
        try:
            return joins.resolve_claimed(self.database, run, self.join_compiler(run))
        except MizzenError as error:
            self.report_status(run.uuid, RunStatus.FAILED, "JoinError", str(error))
            return None

    def record_plan(self, uuid: str, plan: dict[str, Any]) -> None:
        self._outbox.put(Report("plan", uuid, plan=plan))

    def report_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        self._outbox.put(Report("status", uuid, status=status, reason=reason, message=message))

    def report_logs(self, uuid: str, lines: list[LogLine]) -> None:
        if lines:
            self._outbox.put(Report("logs", uuid, lines=list(lines)))

    @property
    def pending(self) -> int:
        """Reports not stored yet (the database failed; they are retried)."""
        return self._outbox.pending

    def flush(self, timeout: float) -> bool:
        """Wait until every report is stored (True) or ``timeout`` seconds have passed (False)."""
        return self._outbox.flush(timeout)

    def close(self, timeout: float = 10.0) -> None:
        if not self._outbox.close(timeout):
            log.error("%d reports could not be stored: the database kept failing", self.pending)

    # -- delivering the outbox -------------------------------------------------------------------

    def _deliver(self, report: Report) -> bool:
        try:
            self._store(report)
        except InvalidTransition as error:
            log.info("run %s: ignored reported status: %s", report.uuid, error)
        except NotFound:
            log.info("run %s: dropped %s of a deleted run", report.uuid, report.describe())
        except MizzenError as error:  # refused for a value: storing it again would fail again
            log.warning("run %s: the store refused %s: %s", report.uuid, report.describe(), error)
        except Exception as error:
            return self._failed(report, error)
        return True

    def _failed(self, report: Report, error: Exception) -> bool:
        """Whether to keep the report (False) or give up on it (True)."""
        if report.failing_since is None:
            report.failing_since = time.monotonic()
        if is_unavailable(error) or time.monotonic() - report.failing_since < GIVE_UP_AFTER_SECONDS:
            if report.failures == 0:
                log.warning(
                    "run %s: cannot store %s yet (%s); retrying", report.uuid, report.describe(), error
                )
            report.failures += 1
            return False
        log.error("run %s: gave up storing %s: %s", report.uuid, report.describe(), error, exc_info=error)
        return True

    def _store(self, report: Report) -> None:
        if report.kind == "logs":
            self.log_sink(report.uuid, report.lines)
        elif report.kind == "plan":
            runs_gateway.update_run(self.database, report.uuid, plan=report.plan)
        else:
            assert report.status is not None
            self._store_status(report.uuid, report.status, report.reason, report.message)

    def _store_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        change = statuses.set_status(self.database, uuid, status, reason, message, history=False)
        if change.changed and self.on_status_changed is not None:
            try:
                self.on_status_changed(uuid, change.run.project, status, change.previous)
            except Exception:  # stored: a listener's failure is not the store's
                log.exception("run %s: a status listener failed", uuid)

    def use_cache(self, uuid: str, key: str, ttl: int | None) -> str | None:
        change = flow.use_cache(self.database, uuid, key, ttl=ttl)
        if change is None:
            return None
        if self.on_status_changed is not None:
            try:
                self.on_status_changed(uuid, change.run.project, change.run.status, change.previous)
            except Exception:  # stored: a listener's failure is not the store's
                log.exception("run %s: a status listener failed", uuid)
        hit: str = change.run.meta[CACHE_HIT_KEY]["uuid"]
        return hit

    def stop_requested(self, executor: str, owner: str) -> list[str]:
        stopping = runs_gateway.runs_in_status(self.database, executor, RunStatus.STOPPING)
        return [run.uuid for run in stopping if run.owner == owner]

    def fail_orphans(
        self, executor: str, reap: Callable[[str], object] | None = None, *, keep_pipelines: bool = False
    ) -> list[str]:
        """Runs left unfinished by a process of this machine that no longer exists (a `mizzen run`
        killed with its runs): they can never finish, so they fail with the reason said plainly.
        Pipelines fail too (`ops resume` continues them), unless ``keep_pipelines``: a server's
        pipeline driver takes them over instead."""
        orphans: list[tuple[str, str]] = []
        abandoned: list[tuple[str, str]] = []  # created, waiting for code its uploader never sent
        for run in runs_gateway.unfinished_runs(self.database, executor):
            if keep_pipelines and run.kind in PIPELINE_KINDS:
                continue
            owner, uploader = run.owner, run.meta.get(UPLOADER_KEY)
            if owner and owner_is_gone(owner):
                orphans.append((run.uuid, owner))
            elif run.meta.get(UPLOAD_KEY) == UPLOAD_PENDING and uploader and owner_is_gone(uploader):
                abandoned.append((run.uuid, uploader))
        for uuid, owner in orphans:
            if reap is not None:
                reap(uuid)  # processes it left behind
            pid = owner.split(":")[1]
            self.report_status(
                uuid,
                RunStatus.FAILED,
                ORPHANED_REASON,
                f"the mizzen process that ran it (pid {pid}) exited before the run finished",
            )
        for uuid, uploader in abandoned:
            pid = uploader.split(":")[1]
            self.report_status(
                uuid,
                RunStatus.FAILED,
                "UploadFailed",
                f"the `mizzen run` uploading its code (pid {pid}) exited before the upload finished",
            )
        return [uuid for uuid, _ in orphans + abandoned]
