"""The vendored libraries: what VERSIONS records is what is on disk, each with its licence, and the
package serves them (pip install -e . and a wheel carry src/mizzen/server/static)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "mizzen" / "server" / "static" / "vendor"


def test_the_vendored_files_match_versions_and_carry_their_licences() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "refresh_vendor.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    versions = (VENDOR / "VERSIONS").read_text()
    assert re.search(r"^htmx\.org 2\.\d+\.\d+ 0BSD", versions, re.M)
    assert re.search(r"^uplot 1\.\d+\.\d+ MIT", versions, re.M)
    for folder in ("htmx", "uplot"):
        assert (VENDOR / folder / "LICENSE").read_text().strip()


def test_a_changed_vendored_file_is_caught(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(VENDOR, vendor)
    (vendor / "htmx" / "htmx.min.js").write_text("/* edited by hand */")
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "refresh_vendor.py"), "--check"],
        env={**os.environ, "MIZZEN_VENDOR_DIR": str(vendor)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1 and "run python tools/refresh_vendor.py" in check.stderr


def test_every_asset_a_page_names_is_served_by_the_server(api_server: str) -> None:
    page = httpx.get(f"{api_server}/").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert {
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/ui.js",
    } <= set(assets)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # nothing from a CDN
    for asset in assets:
        answer = httpx.get(api_server + asset)
        assert answer.status_code == 200 and answer.content, asset


def test_make_test_without_chromium_and_without_root_names_the_command(tmp_path: Path) -> None:
    fake_id = tmp_path / "bin" / "id"
    fake_id.parent.mkdir()
    fake_id.write_text("#!/bin/sh\necho 1000\n")  # not root: nothing is installed
    fake_id.chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / "tools" / "ensure_chromium.sh")],
        env={
            **os.environ,
            "PATH": f"{fake_id.parent}:{os.environ['PATH']}",
            "MIZZEN_CHROMIUM": str(tmp_path / "none"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "sudo apt-get install -y chromium" in done.stderr
    present = subprocess.run(
        ["bash", str(ROOT / "tools" / "ensure_chromium.sh")],
        env={**os.environ, "MIZZEN_CHROMIUM": sys.executable},  # any executable stands for a present one
        capture_output=True,
        text=True,
        check=False,
    )
    assert present.returncode == 0 and present.stdout == ""
