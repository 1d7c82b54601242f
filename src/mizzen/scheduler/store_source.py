"""``StoreRunSource``: a RunSource over the metadata store, for schedulers living beside the API
(``mizzen run`` in embedded mode, ``mizzen server``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mizzen.errors import InvalidTransition, NotFound
from mizzen.scheduler.source import ClaimedRun, owner_is_gone
from mizzen.schemas.api import LogLine
from mizzen.schemas.run_meta import OWNER_KEY, UPLOAD_KEY, UPLOAD_PENDING, UPLOADER_KEY
from mizzen.schemas.statuses import RunStatus
from mizzen.store import Database
from mizzen.store.repos import runs as runs_repo
from mizzen.store.repos import scheduling
from mizzen.store.repos.statuses import set_status

log = logging.getLogger(__name__)

LogSink = Callable[[str, list[LogLine]], Any]
StatusListener = Callable[[str, str, RunStatus, RunStatus | None], Any]  # uuid, project, new, previous


class StoreRunSource:
    def __init__(
        self,
        database: Database,
        log_sink: LogSink,
        on_status_changed: StatusListener | None = None,
    ) -> None:
        self.database = database
        self.log_sink = log_sink
        self.on_status_changed = on_status_changed

    def claim(self, executor: str, owner: str, limit: int) -> list[ClaimedRun]:
        with self.database.write() as session:
            claimed = [
                ClaimedRun(
                    uuid=claim.run.uuid,
                    project=claim.run.project.name,
                    project_uuid=claim.run.project.uuid,
                    kind=claim.run.kind,
                    name=claim.run.name,
                    spec=claim.run.spec,
                    params=dict(claim.run.params or {}),
                    token=claim.token,
                    meta=dict(claim.run.meta or {}),
                    original_uuid=claim.run.original_uuid,
                    cloning_kind=claim.run.cloning_kind,
                )
                for claim in scheduling.claim_runs(session, executor, owner, limit=limit)
            ]
        return claimed

    def record_plan(self, uuid: str, plan: dict[str, Any]) -> None:
        with self.database.write() as session:
            run = runs_repo.get_run(session, uuid, for_update=True)
            runs_repo.update_run(session, run, plan=plan)

    def report_status(self, uuid: str, status: RunStatus, reason: str | None, message: str | None) -> None:
        previous: RunStatus | None = None
        try:
            with self.database.write() as session:
                run = runs_repo.get_run(session, uuid, for_update=True)
                previous = RunStatus(run.status)
                project = run.project.name
                changed = set_status(session, run, status, reason, message)
        except InvalidTransition as error:
            log.info("run %s: ignored reported status: %s", uuid, error)
            return
        except NotFound:
            log.info("run %s: reported %s for a run that was deleted", uuid, status)
            return
        if changed and self.on_status_changed is not None:
            self.on_status_changed(uuid, project, status, previous)

    def report_logs(self, uuid: str, lines: list[LogLine]) -> None:
        try:
            self.log_sink(uuid, lines)
        except NotFound:
            log.info("run %s: dropped %d log lines of a deleted run", uuid, len(lines))

    def stop_requested(self, executor: str, owner: str) -> list[str]:
        with self.database.read() as session:
            return [
                run.uuid
                for run in scheduling.runs_in_status(session, executor, RunStatus.STOPPING)
                if (run.meta or {}).get(OWNER_KEY) == owner
            ]

    def fail_orphans(self, executor: str, reap: Callable[[str], object] | None = None) -> list[str]:
        """Runs left unfinished by a process of this machine that no longer exists (a `mizzen run`
        killed with its runs): they can never finish, so they fail with the reason said plainly."""
        orphans: list[tuple[str, str]] = []
        abandoned: list[tuple[str, str]] = []  # created, waiting for code its uploader never sent
        with self.database.read() as session:
            for run in scheduling.unfinished_runs(session, executor):
                meta = run.meta or {}
                owner, uploader = meta.get(OWNER_KEY), meta.get(UPLOADER_KEY)
                if owner and owner_is_gone(owner):
                    orphans.append((run.uuid, owner))
                elif meta.get(UPLOAD_KEY) == UPLOAD_PENDING and uploader and owner_is_gone(uploader):
                    abandoned.append((run.uuid, uploader))
        for uuid, owner in orphans:
            if reap is not None:
                reap(uuid)  # processes it left behind
            pid = owner.split(":")[1]
            self.report_status(
                uuid,
                RunStatus.FAILED,
                "orphaned",
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
