"""``mizzen init git`` as a pod's init container runs it: a revision is never a git option."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
}


def test_an_option_as_revision_is_refused(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    env = os.environ | GIT_ENV
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "one"]):
        subprocess.run(["git", "-C", str(origin), *args], check=True, env=env, capture_output=True)
    marker = tmp_path / "injected"
    result = subprocess.run(
        [
            sys.executable, "-m", "mizzen", "init", "git",
            "--url", str(origin),
            f"--revision=--upload-pack=touch {marker};git-upload-pack",
            "--path", str(tmp_path / "checkout"),
        ],
        capture_output=True, text=True, env=env | {"MIZZEN_CONTEXT_PATH": str(tmp_path / "context")},
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "starts with '-'" in result.stdout + result.stderr
    assert not marker.exists()
