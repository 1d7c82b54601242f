"""What ``log_env()`` records: Python, platform, installed packages, and the git state of the code."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 10.0
MAX_DIFF_BYTES = 5_000_000


def collect_env(cwd: Path) -> dict[str, Any]:
    from importlib import metadata

    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name] = dist.version
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "node": platform.node(),
            "platform": platform.platform(),
        },
        "packages": dict(sorted(packages.items(), key=lambda kv: kv[0].lower())),
        "git": git_state(cwd),
    }


def env_json(cwd: Path) -> bytes:
    return json.dumps(collect_env(cwd), indent=1).encode()


def git_state(cwd: Path) -> dict[str, Any] | None:
    """Commit, branch, remote and uncommitted changes of the repository holding ``cwd``, if any."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    commit = _git(cwd, "rev-parse", "HEAD")  # None in a repository without commits
    status = _git(cwd, "status", "--porcelain") or ""
    diff = _git(cwd, "diff", "HEAD", "--binary") if commit else _git(cwd, "diff", "--cached", "--binary")
    diff = diff or ""
    truncated = len(diff.encode()) > MAX_DIFF_BYTES
    return {
        "root": top,
        "commit": commit,
        "branch": _git(cwd, "rev-parse", "--abbrev-ref", "HEAD") if commit else None,
        "remote": _git(cwd, "config", "--get", "remote.origin.url"),
        "dirty": bool(status.strip()),
        "status": status.splitlines(),
        "diff": diff.encode()[:MAX_DIFF_BYTES].decode(errors="ignore") if truncated else diff,
        "diff_truncated": truncated,
    }


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip("\n") if args[0] != "diff" else done.stdout
