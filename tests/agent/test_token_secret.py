"""`mizzen agent token-secret` (the deployment's token Job) against the Kubernetes API double."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from k8s_double import K8sDouble


def _token_secret(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    argv = ["agent", "token-secret", "-n", "mizzen", "--kubeconfig", str(kubeconfig)]
    return subprocess.run(
        [sys.executable, "-m", "mizzen", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_token_secret_is_made_once_and_kept(k8s_double: K8sDouble, k8s_kubeconfig: Path) -> None:
    k8s_double.create_namespace("mizzen")
    first = _token_secret(k8s_kubeconfig)
    assert first.returncode == 0, first.stderr
    assert "created with a new token" in first.stdout
    secret = k8s_double.get("v1", "Secret", "mizzen-token", "mizzen")
    assert secret is not None
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert len(token) >= 32
    assert token not in first.stdout + first.stderr  # never printed
    again = _token_secret(k8s_kubeconfig)
    assert again.returncode == 0, again.stderr
    assert "its token is kept" in again.stdout
    kept = k8s_double.get("v1", "Secret", "mizzen-token", "mizzen")
    assert kept is not None and base64.b64decode(kept["data"]["token"]).decode() == token
