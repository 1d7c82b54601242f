"""`mizzen ui` and `mizzen ops dashboard`, as a user runs them (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
from ui_harness import MIZZEN, UiServer, free_port, wait_for

from conftest import Runs

JOB = """
version: 1.1
kind: operation
component:
  run: {kind: job, container: {image: x, command: [pwd]}}
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MIZZEN_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    return {**env, "MIZZEN_HOME": str(home), "COLUMNS": "200", **extra}


def test_ops_dashboard_prints_the_run_page_of_the_server_it_talks_to(ui_server: UiServer, runs: Runs) -> None:
    done = subprocess.run(
        [str(MIZZEN), "ops", "dashboard", runs.train[:8], "--url"],
        env=ui_server.env(MIZZEN_HOST=ui_server.url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{ui_server.url}/runs/{runs.train}"


def test_ops_dashboard_without_a_server_names_the_page_mizzen_ui_will_serve(tmp_path: Path) -> None:
    home = tmp_path / "home"
    job = tmp_path / "job.yaml"
    job.write_text(JOB)
    made = subprocess.run(
        [str(MIZZEN), "run", "-f", str(job), "-p", "solo"],
        env=_env(home),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    done = subprocess.run(
        [str(MIZZEN), "ops", "dashboard"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("http://127.0.0.1:8000/runs/") and len(url.rsplit("/", 1)[1]) == 32
    assert "`mizzen ui` serves this page" in done.stderr


def test_mizzen_ui_serves_the_api_and_the_ui_on_loopback_and_prints_the_url(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(MIZZEN), "ui", "--no-browser", "--port", str(port)],
            env=_env(tmp_path / "home"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: url in log.read_text(), 120, log.read_text)
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "<h1>Projects</h1>" in page.text
        assert httpx.get(f"{url}api/v1/healthz", timeout=30).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def test_mizzen_ui_opens_the_server_already_running_for_this_home(ui_server: UiServer) -> None:
    done = subprocess.run(
        [str(MIZZEN), "ui", "--no-browser"],
        env=ui_server.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{ui_server.url}/" in done.stdout
    assert "log in with MIZZEN_TOKEN" in done.stdout
