"""The vendored CustomResourceDefinitions the double serves from the start."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

# mpijobs.kubeflow.org is defined twice (training-operator v1 and mpi-operator v2beta1); a cluster
# installs one. Mizzen renders kubeflow.org/v1, so the training-operator one is served by default.
DEFAULT_EXCLUDED = frozenset({"kubeflow.org_mpijobs_v2beta1.yaml"})

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def crd_dir() -> Path:
    import shared_data  # tests/ is on the path wherever the double runs

    return shared_data.crds_dir()


def _cache_file(path: Path) -> Path:
    stat = path.stat()
    digest = hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "k8s-double-crds" / f"{path.stem}-{digest}.json"


@functools.cache
def _parsed(path: str) -> dict[str, Any]:
    """Parse a CRD file once per process; a JSON copy in the temp dir spares later processes the YAML."""
    source = Path(path)
    cached = _cache_file(source)
    if cached.exists():
        loaded = json.loads(cached.read_text(encoding="utf-8"))
    else:
        with open(source, encoding="utf-8") as handle:
            loaded = yaml.load(handle, Loader=_Loader)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(loaded), encoding="utf-8")
        partial.replace(cached)
    if not isinstance(loaded, dict) or loaded.get("kind") != "CustomResourceDefinition":
        raise ValueError(f"{path}: not a CustomResourceDefinition")
    return loaded


def shared_crd(path: Path) -> dict[str, Any]:
    """The parsed CRD, shared by every double in the process (parsed once): never mutate it."""
    return _parsed(str(path))


def default_crd_files(directory: Path | None = None) -> list[Path]:
    folder = directory or crd_dir()
    return sorted(p for p in folder.glob("*.yaml") if p.name not in DEFAULT_EXCLUDED)


def stored_form(crd: dict[str, Any]) -> dict[str, Any]:
    """The CRD as the API server stores it, with the status the apiextensions controller writes.
    Only the top level and metadata are new dicts: the (large) spec stays shared."""
    spec = crd["spec"]
    names = dict(spec["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    conditions = [
        ("NamesAccepted", "NoConflicts", "no conflicts found"),
        ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
    ]
    status = {
        "acceptedNames": names,
        "storedVersions": [v["name"] for v in spec["versions"] if v.get("storage")],
        "conditions": [
            {
                "type": kind,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastTransitionTime": "2025-01-01T00:00:00Z",
            }
            for kind, reason, message in conditions
        ],
    }
    return {**crd, "metadata": dict(crd["metadata"]), "status": status}
