"""Where the project's shared test data lives: the polyaxonfile corpus and the operators' CRDs.

They sit in ``shared/`` beside the checkout (``../shared``), or inside it (``./shared``);
``MIZZEN_SHARED_DIR`` points elsewhere, and ``MIZZEN_CORPUS`` / ``MIZZEN_K8S_CRDS_DIR`` override one.
A snapshot is kept in ``tests/data/shared`` so that a clone anywhere runs the whole suite.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_ENV = "MIZZEN_SHARED_DIR"


def shared_path(*parts: str, override_env: str | None = None) -> Path:
    """The first existing ``shared/<parts>``; a clear error naming every place looked at."""
    if override_env and os.environ.get(override_env):
        return Path(os.environ[override_env])
    roots = [Path(os.environ[SHARED_ENV])] if os.environ.get(SHARED_ENV) else []
    roots += [REPO.parent / "shared", REPO / "shared", REPO / "tests" / "data" / "shared"]
    candidates = [root.joinpath(*parts) for root in roots]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"shared test data not found (looked in {looked}); set {SHARED_ENV}")


def corpus_dir() -> Path:
    return shared_path("corpus", "polyaxonfiles", override_env="MIZZEN_CORPUS")


def crds_dir() -> Path:
    return shared_path("k8s", "crds", override_env="MIZZEN_K8S_CRDS_DIR")
