"""What `mizzen sidecar` does each round: archive the run's outputs to the artifacts store, flush the
tracking journal to the API, and at the end keep the main container's log.

Imported only when the sidecar runs (fsspec and the tracking client are fine to import here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mizzen import runtime_env
from mizzen.artifacts.local import folder_files
from mizzen.artifacts.store import ArtifactsStore
from mizzen.cli.sidecar_pod import PodApi, PodApiError
from mizzen.errors import MizzenError, NotFound

log = logging.getLogger("mizzen.sidecar")

# Run folders the sidecar never copies: the API's log chunks and the tracking journal (sent through
# the API, which knows what it already holds).
SKIPPED_PREFIXES = ("logs/", f"{runtime_env.TRACKING_DIR}/")
POD_LOGS_FOLDER = "logs/pods"  # in the run's folder of the store: the containers' raw logs
WAIT_MAIN_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class SidecarOptions:
    run_uuid: str
    artifacts_path: Path
    poll_interval: float
    main_container: str
    logs: bool = True
    outputs: bool = True
    wait_main: bool = False


class OutputsArchiver:
    """Copies new and changed files of the run's folder to ``<store>/<uuid>/`` (same relative paths)."""

    def __init__(self, folder: Path, store: ArtifactsStore, run_uuid: str) -> None:
        self.folder = folder
        self.store = store
        self.run_uuid = run_uuid
        self.prefix = f"{store.root}/{run_uuid}"
        self._copied: dict[str, tuple[int, int]] = {}
        self.same_place = store.is_local and _same_folder(Path(self.prefix), folder)

    def sync(self) -> int:
        """Files copied this round."""
        if self.same_place or not self.folder.is_dir():
            return 0
        copied = 0
        for relative, status, source in folder_files(str(self.folder)):
            if relative.startswith(SKIPPED_PREFIXES):
                continue
            version = (status.st_size, status.st_mtime_ns)
            if self._copied.get(relative) == version:
                continue
            self.store.put_stream(source, f"{self.run_uuid}/{relative}")
            self._copied[relative] = version
            copied += 1
        return copied


def _same_folder(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve()
    except OSError:
        return False


class JournalFlusher:
    """Sends what the run's tracking journal still holds (the main process may have died before it
    could); journals the main process still holds are left to it."""

    def __init__(self, folder: Path, env: Mapping[str, str]) -> None:
        self.folder = folder
        self.host = env.get(runtime_env.HOST)
        self.token = env.get(runtime_env.TOKEN) or None

    def flush(self) -> int:
        """Entries and points sent (0 without a journal or an API)."""
        if not self.host or not (self.folder / runtime_env.TRACKING_DIR).is_dir():
            return 0
        from mizzen.client import MizzenClient
        from mizzen.tracking.sync import sync_journal

        try:
            with MizzenClient(self.host, token=self.token, timeout=30) as client:
                report = sync_journal(self.folder, client)
        except NotFound:
            return 0
        except MizzenError as error:
            log.warning("tracking journal not sent yet: %s", error)
            return 0
        return report.metrics + report.entries


class Sidecar:
    def __init__(self, options: SidecarOptions, store: ArtifactsStore | None, env: Mapping[str, str]) -> None:
        self.options = options
        self.store = store
        self.env = env
        self.stopped = threading.Event()
        self.archiver = OutputsArchiver(options.artifacts_path, store, options.run_uuid) if store else None
        self.journal = JournalFlusher(options.artifacts_path, env)
        self._pod: PodApi | None = None
        self._pod_error: str | None = None

    def pod(self) -> PodApi | None:
        if self._pod is None and self._pod_error is None:
            try:
                self._pod = PodApi.from_env(self.env)
            except PodApiError as error:
                self._pod_error = str(error)
        return self._pod

    def run(self) -> int:
        """Rounds until stopped (SIGTERM) or, with ``wait_main``, until the main container ends."""
        if self.archiver is not None and self.archiver.same_place:
            log.info("the run's folder is the store itself: nothing to copy")
        next_round = 0.0
        waited = 0.0
        while not self.stopped.is_set():
            if waited >= next_round:
                self.round()
                next_round = waited + self.options.poll_interval
            if self.options.wait_main and self.main_ended():
                break
            step = WAIT_MAIN_CHECK_SECONDS if self.options.wait_main else self.options.poll_interval
            self.stopped.wait(step)
            waited += step
        return self.finish()

    def main_ended(self) -> bool:
        pod = self.pod()
        if pod is None:
            log.error("cannot watch the main container (%s): archiving once and exiting", self._pod_error)
            return True
        try:
            return pod.container_state(self.options.main_container) == "terminated"
        except PodApiError as error:
            log.error("cannot watch the main container (%s): archiving once and exiting", error)
            return True

    def round(self) -> None:
        try:
            if self.options.outputs and self.archiver is not None:
                copied = self.archiver.sync()
                if copied:
                    log.info("archived %d files", copied)
            self.journal.flush()
        except (OSError, MizzenError) as error:
            log.warning("archiving failed this round (will try again): %s", error)

    def finish(self) -> int:
        """The last round, once the main container is done (problems are logged: exit code 0)."""
        self.round()
        if self.options.logs:
            self.keep_main_log()
        return 0

    def keep_main_log(self) -> None:
        if self.store is None or self.archiver is None:
            return
        pod = self.pod()
        if pod is None:
            log.info("main container log not kept by the sidecar: %s", self._pod_error)
            return
        try:
            text = pod.container_log(self.options.main_container)
        except PodApiError as error:
            log.info("main container log not kept by the sidecar: %s", error)
            return
        target = f"{self.archiver.prefix}/{POD_LOGS_FOLDER}/{pod.pod}/{self.options.main_container}.log"
        try:
            self.store.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            with self.store.fs.open(target, "wb") as handle:
                handle.write(text.encode())
        except OSError as error:
            log.warning("could not keep the main container's log: %s", error)
