"""``sync_journal``: upload what a run's journal still holds (``mizzen ops sync`` calls it).

Safe to run any number of times, after a crash, a kill or a long outage: metric points the server
already holds are left out, other entries are idempotent, and the cursors only move after a 2xx.
Journals still held by a live process (its lock is taken) are left to that process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mizzen.errors import ApiError, NotFound
from mizzen.runtime_env import TRACKING_DIR
from mizzen.tracking.attach import mizzen_home
from mizzen.tracking.delivery import Delivery, RunUnavailable
from mizzen.tracking.journal import (
    JOURNAL_GLOB,
    RUN_RECORD,
    AckState,
    JournalLock,
    RunRecord,
    lane_of,
    read_entries,
)
from mizzen.tracking.uploader import METRICS_BATCH

if TYPE_CHECKING:
    from mizzen.client import MizzenClient


@dataclass
class SyncReport:
    run_uuid: str
    run_dir: Path
    metrics: int = 0  # metric points sent
    entries: int = 0  # other entries delivered (run updates, files, lineage, statuses)
    journals: int = 0  # journal files read
    busy: list[Path] = field(default_factory=list)  # journals a live process still uploads


def find_run_dir(run: str | os.PathLike[str]) -> Path:
    """The run folder (holding ``.tracking/``) for a folder path, a run uuid or an offline run's id."""
    path = Path(run).expanduser()
    if path.name == TRACKING_DIR and (path / RUN_RECORD).is_file():
        return path.parent
    if (path / TRACKING_DIR / RUN_RECORD).is_file():
        return path
    key = str(run)
    candidate = mizzen_home() / "tracking" / key
    if (candidate / TRACKING_DIR / RUN_RECORD).is_file():
        return candidate
    for record_file in (mizzen_home() / "tracking").glob(f"*/{TRACKING_DIR}/{RUN_RECORD}"):
        record = RunRecord.load(record_file.parent)
        if record is not None and record.uuid == key:
            return record_file.parent.parent
    raise NotFound(
        f"no tracking journal found for '{run}': pass the run's folder (the one holding {TRACKING_DIR}/)"
    )


def sync_journal(run: str | os.PathLike[str], client: MizzenClient) -> SyncReport:
    """Uploads every entry the run's journals hold that the server has not acknowledged.

    Raises ``NotFound`` when there is no journal, ``ApiError`` when the API cannot take it (the
    journal is kept: run it again later).
    """
    run_dir = find_run_dir(run)
    tdir = run_dir / TRACKING_DIR
    record = RunRecord.load(tdir)
    if record is None:
        raise NotFound(f"{tdir / RUN_RECORD} is missing: not a tracking journal")
    if record.uuid is None:
        from mizzen.schemas.api import RunCreate

        body = RunCreate.model_validate(record.creation())
        record.uuid = client.runs.create(body, idempotency_key=record.creation_key).uuid
        record.save(tdir)
    delivery = Delivery(client, record.uuid, run_dir if record.managed else None)
    report = SyncReport(record.uuid, run_dir)
    for journal in sorted(tdir.glob(JOURNAL_GLOB)):
        lock = JournalLock(journal)
        if not lock.acquire():
            report.busy.append(journal)
            continue
        delivery.source = journal.stem
        try:
            _sync_one(journal, delivery, report)
        except RunUnavailable as exc:
            raise ApiError(f"cannot upload the journal of run {record.uuid}: {exc}") from exc
        finally:
            lock.release()
    return report


def _sync_one(journal: Path, delivery: Delivery, report: SyncReport) -> None:
    report.journals += 1
    ack = AckState.for_journal(journal)
    pending = [e for e in read_entries(journal) if not ack.acked(e)]
    metrics = delivery.drop_known([e for e in pending if lane_of(e) == "metrics"])
    last_metric_seq = max((int(e["s"]) for e in pending if lane_of(e) == "metrics"), default=None)
    for start in range(0, len(metrics), METRICS_BATCH):
        batch = metrics[start : start + METRICS_BATCH]
        report.metrics += delivery.send_metrics(batch)
        ack.advance("metrics", int(batch[-1]["s"]))
    if last_metric_seq is not None:
        ack.advance("metrics", last_metric_seq)  # points found on the server count as delivered
    for entry in pending:
        if lane_of(entry) == "other":
            delivery.send_other(entry)
            ack.advance("other", int(entry["s"]))
            report.entries += 1
