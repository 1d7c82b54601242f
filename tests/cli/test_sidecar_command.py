"""`mizzen sidecar` as a run's pod runs it: a real subprocess archiving to a real S3 server (moto),
flushing a real tracking journal to the real API, and watching its pod through the Kubernetes API
test double."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agent.support import moto_s3  # noqa: F401  (the fixture)
from tests.executors.support import S3Server

from k8s_double import K8sDouble
from k8s_double.fixtures import k8s_double  # noqa: F401  (the fixture)
from mizzen.client import MizzenClient
from mizzen.schemas.api import RunCreate

MIZZEN = str(Path(sys.executable).parent / "mizzen")
UUID = "c" * 32


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.1)


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "context" / "artifacts" / "run"
    (folder / "outputs").mkdir(parents=True)
    return folder


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIZZEN_", "AWS_"))}
    return {**env, **(extra or {})}


def _read_line(process: subprocess.Popen[str]) -> str:
    """One line of the process's output, read byte by byte from the pipe: ``stdout.readline()``
    would buffer what follows it, and ``communicate()`` (which reads the pipe itself) would never
    see those lines."""
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(process.stdout.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode()


@pytest.fixture
def start_sidecar(run_folder: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None, ready: bool = True) -> subprocess.Popen[str]:
        command = [
            MIZZEN,
            "sidecar",
            "--run-uuid",
            UUID,
            "--artifacts-path",
            str(run_folder),
            "--poll-interval",
            "0.2",
            "--main-container",
            "main",
            *args,
        ]
        process = subprocess.Popen(
            command, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append(process)
        if ready:  # once it says so, a SIGTERM ends it cleanly
            first = _read_line(process)
            assert "archiving" in first, first
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _keys(s3: S3Server, bucket: str) -> dict[str, bytes]:
    fs = s3.filesystem()
    fs.invalidate_cache()
    root = f"{bucket}/{UUID}"
    if not fs.exists(root):
        return {}
    return {path[len(root) + 1 :]: fs.cat_file(path) for path in fs.find(root)}


def test_archives_new_and_changed_outputs_until_sigterm(
    start_sidecar: Callable[..., subprocess.Popen[str]],
    run_folder: Path,
    moto_s3: S3Server,  # noqa: F811
) -> None:
    bucket = moto_s3.make_bucket()
    (run_folder / "outputs" / "model.txt").write_text("v1")
    (run_folder / "logs").mkdir()
    (run_folder / "logs" / "000000000000-000000000001.ndjson").write_text("{}\n")  # the API's, not ours
    (run_folder / ".tracking").mkdir()
    (run_folder / ".tracking" / "run.json").write_text("{}")
    sidecar = start_sidecar("--store", f"s3://{bucket}", "--no-logs", env=moto_s3.env)
    _wait(lambda: _keys(moto_s3, bucket).get("outputs/model.txt") == b"v1", "the first upload")
    (run_folder / "outputs" / "model.txt").write_text("v2 is longer")
    (run_folder / "outputs" / "plots").mkdir()
    (run_folder / "outputs" / "plots" / "loss.csv").write_text("1,2")
    _wait(lambda: _keys(moto_s3, bucket).get("outputs/model.txt") == b"v2 is longer", "the change")
    (run_folder / "outputs" / "last.txt").write_text("written just before the end")
    sidecar.send_signal(signal.SIGTERM)  # the kubelet stops a native sidecar after the main container
    output, _ = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, output
    assert _keys(moto_s3, bucket) == {
        "outputs/model.txt": b"v2 is longer",
        "outputs/plots/loss.csv": b"1,2",
        "outputs/last.txt": b"written just before the end",
    }


def _down_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_flushes_the_tracking_journal_the_training_process_left(
    start_sidecar: Callable[..., subprocess.Popen[str]],
    run_folder: Path,
    api_server: str,
    tmp_path: Path,
) -> None:
    with MizzenClient(api_server) as client:
        run = client.runs.create(RunCreate(project="demo", name="trained"))
        client.statuses.set(run.uuid, "running")
    training = (
        "from mizzen import tracking\n"
        "for step in range(5): tracking.log_metric('loss', 1 / (step + 1), step=step)\n"
    )
    env = _env(
        {
            "MIZZEN_HOME": str(tmp_path / "home"),
            "MIZZEN_HOST": _down_url(),  # the API is away while the run trains
            "MIZZEN_TRACKING_EXIT_TIMEOUT": "1",
            "MIZZEN_IS_MANAGED": "true",
            "MIZZEN_RUN_UUID": run.uuid,
            "MIZZEN_RUN_ARTIFACTS_PATH": str(run_folder),
            "MIZZEN_RUN_OUTPUTS_PATH": str(run_folder / "outputs"),
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", training], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (run_folder / ".tracking").is_dir()
    store = tmp_path / "store"
    sidecar = start_sidecar(
        "--store", str(store), "--no-logs", env={"MIZZEN_HOST": api_server, "MIZZEN_TOKEN": run.token or ""}
    )
    sidecar.send_signal(signal.SIGTERM)
    output, _ = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, output
    with MizzenClient(api_server) as client:
        summaries = client.metrics.summaries(run.uuid)
    assert [(m.name, m.count, m.last_step) for m in summaries] == [("loss", 5, 4)]
    assert not (store / UUID / ".tracking").exists()  # the journal goes through the API, not the store


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "main", "image": "python:3.11"},
                {"name": "mizzen-sidecar", "image": "mizzen/mizzen:0.1.0"},
            ],
        },
    }


def test_wait_main_ends_with_the_main_container_and_keeps_its_log(
    start_sidecar: Callable[..., subprocess.Popen[str]],
    run_folder: Path,
    k8s_double: K8sDouble,  # noqa: F811
    tmp_path: Path,
) -> None:
    k8s_double.create(_pod("job-pod"))
    k8s_double.set_pod_phase("default", "job-pod", "Running")
    k8s_double.append_log("default", "job-pod", "main", "epoch 1\nepoch 2\n")
    store = tmp_path / "store"
    pod_env = {"MIZZEN_KUBE_API": k8s_double.url, "MIZZEN_POD_NAME": "job-pod", "MIZZEN_NAMESPACE": "default"}
    sidecar = start_sidecar("--store", str(store), "--wait-main", env=pod_env)
    (run_folder / "outputs" / "result.json").write_text('{"acc": 1}')
    _wait((store / UUID / "outputs" / "result.json").is_file, "the upload while running")
    assert sidecar.poll() is None  # the main container still runs: the sidecar stays
    k8s_double.set_pod_phase("default", "job-pod", "Succeeded")
    output, _ = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, output
    assert (store / UUID / "logs" / "pods" / "job-pod" / "main.log").read_text() == "epoch 1\nepoch 2\n"


def test_wait_main_outside_a_pod_archives_once_and_says_why(
    start_sidecar: Callable[..., subprocess.Popen[str]], run_folder: Path, tmp_path: Path
) -> None:
    (run_folder / "outputs" / "a.txt").write_text("a")
    sidecar = start_sidecar("--store", str(tmp_path / "store"), "--wait-main")
    output, _ = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0
    assert "cannot watch the main container (not in a Kubernetes pod" in output
    assert (tmp_path / "store" / UUID / "outputs" / "a.txt").read_text() == "a"


def test_without_a_store_it_says_so_and_keeps_running(
    start_sidecar: Callable[..., subprocess.Popen[str]], run_folder: Path
) -> None:
    (run_folder / "outputs" / "a.txt").write_text("a")
    sidecar = start_sidecar(ready=False)  # a native sidecar that crashed would be restarted forever
    warning = _read_line(sidecar)
    assert "no artifacts store (--store URL or MIZZEN_ARTIFACTS_STORE)" in warning
    assert "archiving" in _read_line(sidecar)
    sidecar.send_signal(signal.SIGTERM)
    output, _ = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, output
