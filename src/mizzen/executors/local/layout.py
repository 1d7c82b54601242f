"""Where a local run's files live.

$MIZZEN_HOME/runs/<uuid>/            the run folder (removed by ``ttl`` and ``clean``)
    context/                         the auth token and configs
        code/                        the uploaded code (`-u`), while the run runs
        artifacts/                   init steps write here: globals.artifacts_path (a git init
                                     clones into artifacts/<repo>, as in Polyaxon)
    scratch/                         Mizzen's own helpers (git askpass)
    store/<uuid>/                    staging copy of the run's artifacts, remote stores only
<store>/<uuid>/                      the run's artifacts in a local store
    outputs/  logs/
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mizzen.artifacts.store import ArtifactsStore
from mizzen.compiler.plan import RuntimeContext
from mizzen.executors.base import RunRef

UPLOADED_CODE_FOLDER = "code"  # where mizzen.scheduler.compile_run copies `mizzen run -u`'s code


@dataclass(frozen=True)
class RunLayout:
    uuid: str
    run_dir: Path
    artifacts_root: Path  # the store as the workload sees it: the store folder, or a staging folder
    staged: bool  # True: artifacts_root is a local copy synced to a remote store

    @classmethod
    def of(cls, home: Path, uuid: str, store: ArtifactsStore) -> RunLayout:
        run_dir = home / "runs" / uuid
        if store.is_local:
            return cls(uuid, run_dir, store.local_root, staged=False)
        return cls(uuid, run_dir, run_dir / "store", staged=True)

    @property
    def context_dir(self) -> Path:
        return self.run_dir / "context"

    @property
    def scratch_dir(self) -> Path:
        return self.run_dir / "scratch"

    @property
    def run_artifacts(self) -> Path:
        return self.artifacts_root / self.uuid

    @property
    def outputs(self) -> Path:
        return self.run_artifacts / "outputs"

    @property
    def logs(self) -> Path:
        return self.run_artifacts / "logs"

    def prepare(self) -> None:
        for folder in (self.scratch_dir, self.outputs, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        self.reset_context()

    def reset_context(self) -> None:
        """Every attempt starts from a clean context, as a new pod would."""
        shutil.rmtree(self.context_dir, ignore_errors=True)
        self.context_dir.mkdir(parents=True, exist_ok=True)

    def drop_uploaded_code(self) -> None:
        """Once the run has ended, its copy of the uploaded code goes: the upload stays stored once,
        in the artifacts store (``<uuid>/uploads``), and each attempt copies it in again."""
        shutil.rmtree(self.context_dir / UPLOADED_CODE_FOLDER, ignore_errors=True)

    def remove(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def context(self, run: RunRef, store: ArtifactsStore) -> RuntimeContext:
        return run.runtime_context(
            namespace="local",
            context_path=str(self.context_dir),
            artifacts_path=str(self.context_dir / "artifacts"),
            run_artifacts_path=str(self.run_artifacts),
            run_outputs_path=str(self.outputs),
            store_path=store.url,
        )
