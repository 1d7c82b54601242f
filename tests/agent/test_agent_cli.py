"""`mizzen agent` as a command: bad options and unreachable APIs give one clear line, no traceback;
an agent waiting for the API still stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

from tests.agent.cluster import MIZZEN, agent_environment, eventually


def _agent(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = agent_environment(tmp_path / "home")
    return subprocess.run(
        [MIZZEN, "agent", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: '{server}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    return path


def test_bad_options_are_one_clear_line(tmp_path: Path) -> None:
    cases = {
        (): "mizzen agent needs --namespace NAMESPACE",
        ("-n", "ml", "--kubeconfig", "k", "--in-cluster"): "--kubeconfig and --in-cluster exclude each other",
        ("-n", "ml", "--kubeconfig", "k"): "needs the Mizzen API: pass --host URL or set MIZZEN_HOST",
        (
            "-n",
            "ml",
            "--kubeconfig",
            str(tmp_path / "none"),
            "--host",
            "http://x",
        ): "cannot load the kubeconfig",
    }
    for args, message in cases.items():
        done = _agent(tmp_path, *args)
        assert done.returncode == 1, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_an_unreachable_kubernetes_api_is_said_plainly(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    done = _agent(tmp_path, "-n", "ml", "--kubeconfig", str(kubeconfig), "--host", "http://127.0.0.1:1")
    assert done.returncode == 1
    assert "cannot reach the Kubernetes API for namespace ml" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_agent_waiting_for_the_api_stops_cleanly_on_sigterm(
    tmp_path: Path,
    k8s_kubeconfig: Path,
) -> None:
    host = f"http://127.0.0.1:{_closed_port()}"
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [MIZZEN, "agent", "-n", "default", "--kubeconfig", str(k8s_kubeconfig), "--host", host],
            env=agent_environment(tmp_path / "home"),
            stdout=out,
            stderr=out,
        )
    try:
        eventually(lambda: "waiting for the Mizzen API" in log.read_text(), "the agent waits for the API")
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in log.read_text()
