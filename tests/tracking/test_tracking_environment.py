from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mizzen.tracking.environment import collect_env, git_state


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_env_has_python_packages_and_the_git_commit_with_the_dirty_diff(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "train.py").write_text("lr = 0.1\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "first")
    commit = _git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("lr = 0.2\n")
    (repo / "sub").mkdir()

    env = collect_env(repo / "sub")

    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert "pydantic" in {name.lower() for name in env["packages"]}
    git = env["git"]
    assert git["commit"] == commit
    assert git["dirty"] is True
    assert "-lr = 0.1" in git["diff"] and "+lr = 0.2" in git["diff"]
    assert git["status"] == [" M train.py"]


def test_clean_repository_and_no_repository(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None
    _git(tmp_path, "init", "-q")
    state = git_state(tmp_path)
    assert state is not None and state["commit"] is None and state["dirty"] is False
