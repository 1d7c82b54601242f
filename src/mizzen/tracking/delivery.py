"""Sending journal entries to the API: the same code for the live uploader and ``sync_journal``.

Every delivery is safe to repeat: run updates merge, tags are a union, artifact uploads overwrite,
lineage records are compared with what the server holds, and metric points can be checked against
the stored history (``dedupe=True``) when an earlier attempt may have reached the server.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mizzen.tracking.safety import warn_once

if TYPE_CHECKING:
    from mizzen.client import MizzenClient

TRANSIENT_STATUSES = frozenset({408, 425, 429})
RUN_LEVEL_STATUSES = frozenset({401, 403, 404})


class RunUnavailable(Exception):
    """The server will not take anything for this run (it does not exist, or the token is refused)."""


def is_transient(exc: Exception) -> bool:
    """No answer, or an answer that may change on retry (5xx, 408, 429)."""
    from mizzen.client import ApiUnreachable
    from mizzen.errors import ApiError

    if isinstance(exc, ApiUnreachable):
        return True
    if isinstance(exc, ApiError):
        code = exc.status_code or 0
        return code >= 500 or code in TRANSIENT_STATUSES
    return False


def is_run_level(exc: Exception) -> bool:
    from mizzen.errors import ApiError

    return isinstance(exc, ApiError) and exc.status_code in RUN_LEVEL_STATUSES


def timestamp_key(timestamp: float) -> int:
    """Microseconds: what survives a server that stores times as datetimes."""
    return round(timestamp * 1_000_000)


class Delivery:
    def __init__(
        self, client: MizzenClient, run_uuid: str, store_dir: Path | None = None, source: str = "journal"
    ) -> None:
        self.client = client
        self.run_uuid = run_uuid
        self.source = source  # the journal's name: metric batch keys are unique per journal
        # A managed run's folder may be the artifacts store itself: files already there need no upload.
        self.store_dir = store_dir.resolve() if store_dir else None
        self._lineage_known: set[str] | None = None

    # ---- metrics -------------------------------------------------------------------------------

    def send_metrics(self, entries: Sequence[dict[str, Any]], dedupe: bool = False) -> int:
        """Posts metric entries in one request; returns how many were sent.

        With ``dedupe``, points the server already holds (same name, step and timestamp) are left
        out. A point the server rejects (4xx) is isolated by bisection and skipped with a warning.
        """
        entries = self._finite(entries)
        if dedupe:
            entries = self.drop_known(entries)
        if not entries:
            return 0
        return self._post_points(entries)

    @staticmethod
    def _finite(entries: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        """NaN and infinities cannot travel in JSON nor be stored: they stay in the journal only."""
        if all(math.isfinite(e["v"]) for e in entries):
            return entries
        kept = []
        for entry in entries:
            if math.isfinite(entry["v"]):
                kept.append(entry)
            else:
                warn_once(
                    f"non-finite:{entry['n']}",
                    f"metric '{entry['n']}' has a non-finite value ({entry['v']}) at step {entry['st']}: "
                    "the API cannot store it; it stays in the journal only",
                )
        return kept

    def _post_points(self, entries: Sequence[dict[str, Any]]) -> int:
        # The same batch sent again (its answer was lost) is stored once by the server.
        key = f"{self.source}:{entries[0]['s']}-{entries[-1]['s']}:{len(entries)}"
        try:
            self.client.metrics.log_series(self.run_uuid, _as_series(entries), idempotency_key=key)
            return len(entries)
        except Exception as exc:
            if is_transient(exc):
                raise
            if is_run_level(exc):
                raise RunUnavailable(str(exc)) from exc
            if len(entries) == 1:
                warn_once(
                    f"metric-rejected:{entries[0]['n']}",
                    f"the API rejected a point of '{entries[0]['n']}': {exc}",
                )
                return 0
            middle = len(entries) // 2
            return self._post_points(entries[:middle]) + self._post_points(entries[middle:])

    def drop_known(self, entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        from mizzen.client import ApiNotFound

        known: dict[str, set[tuple[int | None, int]]] = {}
        for name in {e["n"] for e in entries}:
            try:
                history = self.client.metrics.history(self.run_uuid, name)
            except ApiNotFound:
                known[name] = set()
                continue
            known[name] = {
                (step, timestamp_key(ts)) for step, ts in zip(history.steps, history.timestamps, strict=False)
            }
        kept = []
        for entry in entries:
            seen = known[entry["n"]]
            key = timestamp_key(entry["ts"])
            step = entry["st"]
            if (step, key) in seen or (step, key - 1) in seen or (step, key + 1) in seen:
                continue
            kept.append(entry)
        return kept

    # ---- everything else -----------------------------------------------------------------------

    def send_other(self, entry: dict[str, Any]) -> None:
        """Delivers one non-metric entry. Raises on transient failures; skips rejected entries."""
        kind = entry.get("t")
        try:
            if kind == "update":
                self.client.runs.update(self.run_uuid, **{entry["field"]: entry["values"]})
            elif kind == "tags":
                current = self.client.runs.get(self.run_uuid).tags
                merged = list(dict.fromkeys([*current, *entry["tags"]]))
                if merged != current:
                    self.client.runs.update(self.run_uuid, tags=merged)
            elif kind == "file":
                self._send_file(entry)
            elif kind == "lineage":
                self._send_lineage(entry["record"])
            elif kind == "status":
                self.client.statuses.set(
                    self.run_uuid,
                    entry["status"],
                    entry.get("reason"),
                    entry.get("message"),
                    time=entry.get("time"),  # journals of older versions have none: now
                )
            else:
                warn_once(f"entry-kind:{kind}", f"skipping a journal entry of unknown type '{kind}'")
        except Exception as exc:
            if kind == "lineage":
                self._lineage_known = None  # the record may have been stored: look again next time
            if is_transient(exc):
                raise
            if is_run_level(exc):
                raise RunUnavailable(str(exc)) from exc
            from mizzen.errors import ApiError

            if not isinstance(exc, ApiError):
                raise
            warn_once(f"rejected:{kind}:{exc}", f"the API rejected a '{kind}' entry, skipped: {exc}")

    def _send_file(self, entry: dict[str, Any]) -> None:
        source = Path(entry["src"])
        dest: str = entry["dest"]
        if not source.is_file():
            warn_once(f"missing:{source}", f"'{source}' disappeared before it could be uploaded; skipped")
            return
        if self._already_stored(source, dest):
            return
        self.client.artifacts.upload_file(self.run_uuid, source, dest)

    def _already_stored(self, source: Path, dest: str) -> bool:
        """True when the server already shows this very file (a managed run writing into the store)."""
        if self.store_dir is None:
            return False
        resolved = source.resolve()
        if (
            not resolved.is_relative_to(self.store_dir)
            or resolved.relative_to(self.store_dir).as_posix() != dest
        ):
            return False
        stat = os.stat(resolved)
        for artifact in self.client.artifacts.list(self.run_uuid, prefix=dest):
            if artifact.path.strip("/") == dest and artifact.size == stat.st_size:
                if artifact.modified_at is None:
                    return True
                return abs(artifact.modified_at.timestamp() - stat.st_mtime) < 1.0
        return False

    def _send_lineage(self, record: dict[str, Any]) -> None:
        from mizzen.schemas.api import LineageCreate

        if self._lineage_known is None:
            self._lineage_known = {
                _lineage_key(r.model_dump(mode="json")) for r in self.client.lineage.list(self.run_uuid)
            }
        lineage = LineageCreate.model_validate(record)
        key = _lineage_key(lineage.model_dump(mode="json"))
        if key in self._lineage_known:
            return
        self.client.lineage.create(self.run_uuid, [lineage])
        self._lineage_known.add(key)


def _lineage_key(record: dict[str, Any]) -> str:
    fields = ("name", "kind", "path", "summary", "is_input")
    return json.dumps({k: record.get(k) for k in fields}, sort_keys=True, default=str)


def _as_series(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Journal entries as one column set per metric name, in the order they were logged."""
    by_name: dict[str, dict[str, list[Any]]] = {}
    for entry in entries:
        series = by_name.get(entry["n"])
        if series is None:
            series = by_name[entry["n"]] = {"values": [], "timestamps": [], "steps": []}
        series["values"].append(entry["v"])
        series["timestamps"].append(entry["ts"])
        series["steps"].append(entry["st"])
    return [{"name": name, **columns} for name, columns in by_name.items()]
