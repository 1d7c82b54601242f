"""`mizzen init <kind>` as the init containers run it: real subprocesses, real git repos, a real S3
server (moto), the command lines exactly as the Kubernetes renderer writes them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.agent.support import moto_s3  # noqa: F401  (the fixture)
from tests.executors.support import S3Server

from mizzen.compiler.plan import (
    ArtifactsInit,
    FileInit,
    GitInit,
    InitStep,
    TensorboardInit,
)
from mizzen.render.k8s.init_containers import init_args

MIZZEN = str(Path(sys.executable).parent / "mizzen")

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def pod_env(tmp_path: Path) -> dict[str, str]:
    """The env an init container gets (runtime_env), with the run's context in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIZZEN_", "AWS_"))}
    context = tmp_path / "context"
    return env | {
        "MIZZEN_RUN_UUID": "a" * 32,
        "MIZZEN_PROJECT": "demo",
        "MIZZEN_OWNER": "default",
        "MIZZEN_CONTEXT_PATH": str(context),
        "MIZZEN_ARTIFACTS_PATH": str(context / "artifacts"),
        "MIZZEN_RUN_ARTIFACTS_PATH": str(context / "artifacts" / "run"),
        "MIZZEN_HOST": "http://mizzen-server:8000",
        "HOME": str(tmp_path / "home"),
    }


@pytest.fixture
def init(pod_env: dict[str, str]) -> Run:
    def run(kind: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MIZZEN, "init", kind, *args],
            env={**pod_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def _rendered(step: InitStep, store: str | None = None) -> list[str]:
    """The arguments the renderer gives this step's init container."""
    return init_args(step, None, store)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "origin" / "project"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "train.py").write_text("print('v1')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    _git(repo, "tag", "v1")
    (repo / "train.py").write_text("print('v2')\n")
    _git(repo, "commit", "-q", "-am", "v2")
    return repo


def test_git_clones_at_the_requested_revision(init: Run, repo: Path, tmp_path: Path) -> None:
    destination = tmp_path / "context" / "artifacts" / "project"
    step = InitStep(
        kind="git", name="init-0", path=str(destination), git=GitInit(url=f"file://{repo}", revision="v1")
    )
    done = init("git", *_rendered(step))
    assert done.returncode == 0, done.stderr
    assert (destination / "train.py").read_text() == "print('v1')\n"
    assert _git(destination, "rev-parse", "HEAD") == _git(repo, "rev-parse", "v1")
    assert "checked out" in done.stdout


def test_git_default_destination_is_the_repo_folder_under_the_context(
    init: Run, repo: Path, tmp_path: Path
) -> None:
    done = init("git", "--url", f"file://{repo}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "context" / "artifacts" / "project" / "train.py").read_text() == "print('v2')\n"


def test_git_failure_is_one_clear_line(init: Run, repo: Path, tmp_path: Path) -> None:
    done = init("git", "--url", f"file://{repo}", "--revision", "nope", "--path", str(tmp_path / "x"))
    assert done.returncode == 1
    assert "revision 'nope' is not a branch, tag or commit" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def _upload(s3: S3Server, bucket: str, files: dict[str, str]) -> None:
    fs = s3.filesystem()
    for key, text in files.items():
        with fs.open(f"{bucket}/{key}", "wb") as handle:
            handle.write(text.encode())


def test_paths_and_artifacts_copy_from_s3(init: Run, moto_s3: S3Server, tmp_path: Path) -> None:  # noqa: F811
    bucket = moto_s3.make_bucket()
    _upload(moto_s3, bucket, {"data/train.csv": "a,b\n", "data/more/x.txt": "x", "models/m.bin": "m"})
    target = tmp_path / "context" / "artifacts" / "data"
    paths = InitStep(
        kind="paths", name="init-0", path=str(target), paths=["data/train.csv", ["data/more", "extra"]]
    )
    done = init("paths", *_rendered(paths, f"s3://{bucket}"), env=moto_s3.env)
    assert done.returncode == 0, done.stderr
    assert (target / "data" / "train.csv").read_text() == "a,b\n"
    assert (target / "extra" / "x.txt").read_text() == "x"
    artifacts = InitStep(
        kind="artifacts",
        name="init-1",
        path=str(tmp_path / "in"),
        artifacts=ArtifactsInit(files=["models/m.bin"]),
    )
    done = init("artifacts", *_rendered(artifacts, f"s3://{bucket}"), env=moto_s3.env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "in" / "models" / "m.bin").read_text() == "m"


def test_a_missing_path_in_the_store_fails_clearly(init: Run, moto_s3: S3Server, tmp_path: Path) -> None:  # noqa: F811
    bucket = moto_s3.make_bucket()
    done = init(
        "paths",
        "--store",
        f"s3://{bucket}",
        "--item",
        "nothing/here",
        "--path",
        str(tmp_path / "d"),
        env=moto_s3.env,
    )
    assert done.returncode == 1
    assert "'nothing/here' is not in the artifacts store" in done.stderr


def test_store_readers_without_a_store_say_how_to_give_one(init: Run, tmp_path: Path) -> None:
    done = init("paths", "--item", "data", "--path", str(tmp_path / "d"))
    assert done.returncode == 1
    assert "pass --store URL or set MIZZEN_ARTIFACTS_STORE" in done.stderr


def test_the_store_defaults_to_the_agents_artifacts_store(init: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "ds").mkdir(parents=True)
    (store / "ds" / "f.txt").write_text("hello")
    done = init(
        "paths", "--item", "ds", "--path", str(tmp_path / "d"), env={"MIZZEN_ARTIFACTS_STORE": str(store)}
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d" / "ds" / "f.txt").read_text() == "hello"


def test_file_and_auth(init: Run, tmp_path: Path) -> None:
    step = InitStep(
        kind="file",
        name="init-0",
        path=str(tmp_path / "files"),
        file=FileInit(filename="run.sh", content="#!/bin/sh\necho hi\n", chmod="+x"),
    )
    done = init("file", *_rendered(step))
    assert done.returncode == 0, done.stderr
    script = tmp_path / "files" / "run.sh"
    assert script.read_text() == "#!/bin/sh\necho hi\n" and os.access(script, os.X_OK)

    done = init("auth", env={"MIZZEN_TOKEN": "run-token-123"})
    assert done.returncode == 0, done.stderr
    auth = tmp_path / "context" / ".configs" / ".mizzenauth"
    assert json.loads(auth.read_text()) == {"token": "run-token-123", "host": "http://mizzen-server:8000"}
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert "run-token-123" not in done.stdout + done.stderr


def test_dockerfile(init: Run, tmp_path: Path) -> None:
    spec: dict[str, Any] = {"image": "python:3.11-slim", "run": ["pip install -U pip"], "env": {"A": "1"}}
    done = init("dockerfile", "--dockerfile", json.dumps(spec), "--path", str(tmp_path / "build"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "build" / "Dockerfile").read_text()
    assert text.startswith("FROM python:3.11-slim")
    assert "pip install -U pip" in text
    bad = init("dockerfile", "--dockerfile", "{not json", "--path", str(tmp_path / "b2"))
    assert bad.returncode == 1 and "--dockerfile is not valid JSON" in bad.stderr


def test_tensorboard_copies_each_runs_logs(init: Run, moto_s3: S3Server, tmp_path: Path) -> None:  # noqa: F811
    bucket = moto_s3.make_bucket()
    uuid = "b" * 32
    _upload(moto_s3, bucket, {f"{uuid}/outputs/tensorboard/events.out": "tb"})
    step = InitStep(
        kind="tensorboard",
        name="init-0",
        path=str(tmp_path / "tb"),
        tensorboard=TensorboardInit(uuids=[uuid]),
    )
    done = init("tensorboard", *_rendered(step, f"s3://{bucket}"), env=moto_s3.env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tb" / uuid / "events.out").read_text() == "tb"


def test_bad_command_lines(init: Run, tmp_path: Path) -> None:
    odd = init("paths", "--store", str(tmp_path), "--item-to", "only-one")
    assert odd.returncode == 1 and "--item-to needs two values" in odd.stderr
    relative = init("file", "--filename", "f", "--content", "c", "--path", "relative/dir")
    assert relative.returncode == 1 and "--path must be absolute" in relative.stderr
    missing = init("git")
    assert missing.returncode == 2 and "--url" in missing.stderr
