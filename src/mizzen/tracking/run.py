"""``Run``: what training code logs into. Every method returns at once and never raises.

Metric calls only append a tuple to a deque (the journal writer thread does the rest); rich events
(images, histograms, data frames...) are encoded on the calling thread, so that a buffer the training
loop reuses cannot change what was logged, and written to files by the writer thread.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.tracking import dataframes, events, images
from mizzen.tracking.journal import METRIC, JournalFile, JournalLock, RunRecord, tracking_dir
from mizzen.tracking.safety import guarded, warn_once
from mizzen.tracking.uploader import Uploader
from mizzen.tracking.writer import JournalWriter

if TYPE_CHECKING:
    from mizzen.client import MizzenClient

DEFAULT_FLUSH_TIMEOUT = 5.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._/=+-]+")


def safe_path(name: str) -> str:
    """A user-given name as a relative path inside the run folder (no '..', no leading '/')."""
    parts = [_UNSAFE.sub("_", p) for p in str(name).replace("\\", "/").split("/")]
    parts = [p for p in parts if p and p not in (".", "..")]
    if not parts:
        raise ValueError(f"'{name}' is not usable as a name")
    return "/".join(parts)


def _timestamp(value: float | datetime | None) -> float:
    if value is None:
        return time.time()
    return value.timestamp() if isinstance(value, datetime) else float(value)


class Run:
    """A tracked run: managed (started by ``mizzen run``) or created by ``tracking.init()``."""

    def __init__(
        self,
        record: RunRecord,
        run_dir: Path,
        outputs_dir: Path | None = None,
        connect: Callable[[], MizzenClient] | None = None,
        flush_timeout: float = DEFAULT_FLUSH_TIMEOUT,
    ) -> None:
        self.record = record
        self.run_dir = run_dir
        self.outputs_dir = outputs_dir or run_dir / "outputs"
        self.flush_timeout = flush_timeout
        self._connect = connect
        self._ended = False
        self._owner_pid = os.getpid()  # a forked child never ends the run for its parent
        record.save(tracking_dir(run_dir))
        self._start_threads()

    def _start_threads(self) -> None:
        tdir = tracking_dir(self.run_dir)
        self._buffer: deque[tuple[Any, ...]] = deque()
        journal = JournalFile(tdir)
        self._lock = JournalLock(journal.path)
        self._lock.acquire()
        self._uploader: Uploader | None = None
        if self._connect is not None:
            store_dir = self.run_dir if self.record.managed else None
            self._uploader = Uploader(self._connect, self.record, journal.path, store_dir)
        sink = self._uploader.submit if self._uploader else None
        self._writer = JournalWriter(self._buffer, journal, self.run_dir, sink)
        self._writer.start()
        if self._uploader:
            self._uploader.start()

    def _after_fork_in_child(self) -> None:
        """A forked child (e.g. a data-loader worker) gets its own journal file and threads."""
        self._lock.release()  # drops the child's copy only: the parent keeps its lock
        if not self._ended:
            self._start_threads()

    # ---- identity and paths --------------------------------------------------------------------

    @property
    def uuid(self) -> str:
        """The server's uuid; for a run started offline, a local id until the run is created."""
        return self.record.uuid or self.record.local_id

    @property
    def managed(self) -> bool:
        return self.record.managed

    @property
    def journal_path(self) -> Path:
        return self._writer.journal.path

    @guarded
    def get_artifacts_path(self) -> str:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return str(self.run_dir)

    @guarded
    def get_outputs_path(self) -> str:
        self.outputs_dir.mkdir(parents=True, exist_ok=True)
        return str(self.outputs_dir)

    # ---- the hot path --------------------------------------------------------------------------

    def log_metric(
        self, name: str, value: float, step: int | None = None, timestamp: float | datetime | None = None
    ) -> None:
        try:
            if self._ended:
                warn_once("ended", "this run has ended: further logging is ignored")
                return
            self._buffer.append(
                (
                    METRIC,
                    name if type(name) is str else str(name),
                    float(value),
                    None if step is None else int(step),
                    time.time() if timestamp is None else _timestamp(timestamp),
                )
            )
        except Exception as exc:
            warn_once(f"log_metric:{type(exc).__name__}", f"log_metric('{name}') skipped: {exc}")

    def log_metrics(
        self, step: int | None = None, timestamp: float | datetime | None = None, **values: float
    ) -> None:
        try:
            moment = _timestamp(timestamp)
            for name, value in values.items():
                self.log_metric(name, value, step, moment)
        except Exception as exc:
            warn_once(f"log_metrics:{type(exc).__name__}", f"log_metrics() skipped: {exc}")

    # ---- run fields ----------------------------------------------------------------------------

    @guarded
    def log_inputs(self, **inputs: Any) -> None:
        self._put(("update", "inputs", dict(inputs)))

    @guarded
    def log_outputs(self, **outputs: Any) -> None:
        self._put(("update", "outputs", dict(outputs)))

    @guarded
    def log_meta(self, **meta: Any) -> None:
        self._put(("update", "meta", dict(meta)))

    @guarded
    def log_tags(self, *tags: str) -> None:
        flat = [t for tag in tags for t in ([tag] if isinstance(tag, str) else list(tag))]
        self._put(("tags", [str(t) for t in flat]))

    @guarded
    def log_status(self, status: str, reason: str | None = None, message: str | None = None) -> None:
        """Records a status change of the run (for runs outside ``mizzen run``: the executor owns
        a managed run's statuses)."""
        self._put(("status", str(status), reason, message, time.time()))

    # ---- files ---------------------------------------------------------------------------------

    @guarded
    def log_artifact(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        kind: str | None = None,
        is_input: bool = False,
    ) -> None:
        """Uploads a file or a folder; a lineage record names it (kind: file, dir, data, model...)."""
        self._log_path(Path(path), "artifacts", name, kind=kind, summary={}, is_input=is_input)

    @guarded
    def log_model(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        framework: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        details = {"framework": framework, **(summary or {})}
        self._log_path(Path(path), "models", name, kind="model", summary=details, is_input=False)

    def _log_path(
        self,
        source: Path,
        folder: str,
        name: str | None,
        *,
        kind: str | None,
        summary: dict[str, Any],
        is_input: bool,
    ) -> None:
        source = source.expanduser().resolve()
        if not source.exists():
            raise FileNotFoundError(f"no such file or folder: {source}")
        inside = self.run_dir.resolve()
        if source.is_relative_to(inside):
            dest = source.relative_to(inside).as_posix()
        elif source.is_dir():
            dest = f"{folder}/{safe_path(name or source.name)}"
        else:
            dest = f"{folder}/{safe_path(name)}/{source.name}" if name else f"{folder}/{source.name}"
        lineage = {
            "name": name or source.stem,
            "kind": kind or ("dir" if source.is_dir() else "file"),
            "path": dest,
            "summary": summary,
            "is_input": is_input,
        }
        self._put(("artifact", str(source), dest, lineage))

    @guarded
    def log_dataframe(self, df: Any, name: str, content_type: str = "csv") -> None:
        data, summary = dataframes.dataframe_bytes(df, content_type)
        dest = f"dataframes/{safe_path(name)}.{content_type}"
        lineage = {
            "name": name,
            "kind": "dataframe",
            "path": dest,
            "summary": {"content_type": content_type, **summary},
        }
        self._put(("blob", data, dest, lineage, None))

    # ---- rich events: one file per call, one lineage record per name ---------------------------

    def _event(
        self, kind: str, name: str, data: bytes, extension: str, *, step: int | None, moment: float
    ) -> None:
        folder = f"events/{kind}/{safe_path(name)}"
        leaf = str(int(step)) if step is not None else f"t{int(moment * 1000)}"
        lineage = {"name": name, "kind": kind, "path": folder, "summary": {}}
        self._put(("blob", data, f"{folder}/{leaf}.{extension}", lineage, f"{kind}:{name}"))

    @guarded
    def log_text(
        self, name: str, text: str, step: int | None = None, timestamp: float | datetime | None = None
    ) -> None:
        self._event("text", name, str(text).encode(), "txt", step=step, moment=_timestamp(timestamp))

    @guarded
    def log_html(
        self, name: str, html: str, step: int | None = None, timestamp: float | datetime | None = None
    ) -> None:
        self._event("html", name, str(html).encode(), "html", step=step, moment=_timestamp(timestamp))

    @guarded
    def log_image(
        self,
        data: Any,
        name: str | None = None,
        step: int | None = None,
        timestamp: float | datetime | None = None,
        dataformats: str | None = None,
    ) -> None:
        """A path, encoded bytes, a numpy array (HW, HWC or CHW; no PIL needed) or a PIL image."""
        encoded, extension = images.image_bytes(data, dataformats)
        if name is None:
            name = Path(data).stem if isinstance(data, (str, os.PathLike)) else "image"
        self._event("image", name, encoded, extension, step=step, moment=_timestamp(timestamp))

    @guarded
    def log_histogram(
        self,
        name: str,
        values: Any,
        bins: int | list[float] = 10,
        step: int | None = None,
        timestamp: float | datetime | None = None,
    ) -> None:
        moment = _timestamp(timestamp)
        payload = events.event_bytes(events.histogram(values, bins), step, moment)
        self._event("histogram", name, payload, "json", step=step, moment=moment)

    @guarded
    def log_roc_auc_curve(
        self,
        name: str,
        fpr: Any,
        tpr: Any,
        auc: float | None = None,
        step: int | None = None,
        *,
        timestamp: float | datetime | None = None,
    ) -> None:
        moment = _timestamp(timestamp)
        payload = events.event_bytes({"kind": "roc", **events.roc_auc_curve(fpr, tpr, auc)}, step, moment)
        self._event("curve", name, payload, "json", step=step, moment=moment)

    @guarded
    def log_pr_curve(
        self,
        name: str,
        precision: Any,
        recall: Any,
        average_precision: float | None = None,
        step: int | None = None,
        *,
        timestamp: float | datetime | None = None,
    ) -> None:
        moment = _timestamp(timestamp)
        curve = events.pr_curve(precision, recall, average_precision)
        payload = events.event_bytes({"kind": "pr", **curve}, step, moment)
        self._event("curve", name, payload, "json", step=step, moment=moment)

    @guarded
    def log_confusion_matrix(
        self,
        name: str,
        x: Any,
        y: Any,
        z: Any,
        step: int | None = None,
        *,
        timestamp: float | datetime | None = None,
    ) -> None:
        moment = _timestamp(timestamp)
        payload = events.event_bytes(events.confusion_matrix(x, y, z), step, moment)
        self._event("confusion", name, payload, "json", step=step, moment=moment)

    @guarded
    def log_env(self) -> None:
        """Python, platform, packages, git commit and uncommitted diff (collected in the background)."""
        from mizzen.tracking.environment import env_json

        cwd = Path.cwd()
        lineage = {"name": "env", "kind": "env", "path": "env.json", "summary": {}}
        self._put(("blob", lambda: env_json(cwd), "env.json", lineage, "env"))

    # ---- the end -------------------------------------------------------------------------------

    @guarded
    def flush(self, timeout: float | None = None) -> bool:
        """Waits until everything logged so far is in the journal on disk (not necessarily uploaded)."""
        return self._writer.flush(self.flush_timeout if timeout is None else timeout)

    @guarded
    def end(
        self, status: str = "succeeded", message: str | None = None, timeout: float | None = None
    ) -> bool:
        """Flushes the journal and gives the uploader at most ``timeout`` seconds (default 5) to finish.

        Returns True when everything reached the server. A run started by ``tracking.init()`` outside
        ``mizzen run`` gets ``status``; a managed run's status belongs to the executor.
        """
        if self._ended:
            return True
        budget = self.flush_timeout if timeout is None else timeout
        deadline = time.monotonic() + budget
        if not self.record.managed and os.getpid() == self._owner_pid:
            self._put(("status", status, "tracking", message, time.time()))
        self._ended = True
        self._writer.stop(min(budget, 2.0))
        delivered = self._uploader is None
        if self._uploader is not None:
            delivered = self._uploader.finish(max(0.0, deadline - time.monotonic()))
            if not delivered:
                where = self.run_dir
                warn_once(
                    "not-delivered",
                    f"{self._uploader.pending()} entries of run {self.uuid} are not uploaded yet; they are "
                    f"in the journal: upload them with `mizzen ops sync {where}`",
                )
        self._lock.release()
        return delivered

    def _put(self, item: tuple[Any, ...]) -> None:
        if self._ended:
            warn_once("ended", "this run has ended: further logging is ignored")
            return
        self._buffer.append(item)
