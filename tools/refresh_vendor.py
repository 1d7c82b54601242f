"""Refresh the web UI's vendored JavaScript/CSS from the npm registry (no Node.js needed).

    python tools/refresh_vendor.py            # newest release within each pinned major
    python tools/refresh_vendor.py --check    # verify the files on disk match VERSIONS (CI)

For each package of ``PACKAGES`` it reads https://registry.npmjs.org/<name>, takes the newest
version matching the major (no pre-releases), downloads the tarball, checks it against the
registry's ``dist.integrity`` (sha512), and copies the listed files and the licence into
``src/mizzen/server/static/vendor/<dir>/``. ``VERSIONS`` records name, version and the sha256 of
every copied file, so a review sees exactly what changed and ``--check`` catches a hand edit.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VENDOR = Path(__file__).resolve().parent.parent / "src" / "mizzen" / "server" / "static" / "vendor"
VENDOR = Path(os.environ.get("MIZZEN_VENDOR_DIR", DEFAULT_VENDOR))  # another folder: for tests
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str  # on npm
    major: int
    folder: str  # under vendor/
    files: tuple[str, ...]  # paths inside the tarball's package/ folder
    licence: str = "LICENSE"


PACKAGES = (
    Package("htmx.org", 2, "htmx", ("dist/htmx.min.js",), "LICENSE"),
    Package("uplot", 1, "uplot", ("dist/uPlot.iife.min.js", "dist/uPlot.min.css"), "LICENSE"),
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return bytes(answer.read())


def _newest(name: str, major: int) -> dict[str, object]:
    document = json.loads(_get(f"{REGISTRY}/{name}"))
    releases = [v for v in document["versions"] if re.fullmatch(rf"{major}\.\d+\.\d+", v)]  # no pre-releases
    if not releases:
        raise SystemExit(f"{name}: no release {major}.x on the registry")
    best = max(releases, key=lambda v: tuple(int(part) for part in v.split(".")))
    meta: dict[str, object] = document["versions"][best]
    return meta


def _verified_tarball(meta: dict[str, object]) -> bytes:
    dist = meta["dist"]
    assert isinstance(dist, dict)
    data = _get(str(dist["tarball"]))
    algorithm, _, expected = str(dist["integrity"]).partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        raise SystemExit(f"{meta['name']}: the tarball does not match the registry's integrity")
    return data


def refresh() -> None:
    lines = ["# vendored by tools/refresh_vendor.py from the npm registry; do not edit by hand"]
    for package in PACKAGES:
        meta = _newest(package.name, package.major)
        target = VENDOR / package.folder
        target.mkdir(parents=True, exist_ok=True)
        for old in target.iterdir():
            old.unlink()
        with tarfile.open(fileobj=io.BytesIO(_verified_tarball(meta))) as tarball:
            for inner in (*package.files, package.licence):
                member = tarball.extractfile(f"package/{inner}")
                if member is None:
                    raise SystemExit(f"{package.name}: {inner} is not in the tarball")
                (target / Path(inner).name).write_bytes(member.read())
        lines.append(f"{package.name} {meta['version']} {meta['license']} -> vendor/{package.folder}/")
        print(f"{package.name} {meta['version']}")
    lines += _hashes()
    (VENDOR / "VERSIONS").write_text("\n".join(lines) + "\n")


def _hashes() -> list[str]:
    return [
        f"  sha256 {hashlib.sha256(path.read_bytes()).hexdigest()} {path.relative_to(VENDOR)}"
        for path in sorted(VENDOR.rglob("*"))
        if path.is_file() and path.name != "VERSIONS"
    ]


def check() -> int:
    recorded = [line for line in (VENDOR / "VERSIONS").read_text().splitlines() if "sha256" in line]
    if recorded != _hashes():
        print("vendored files differ from VERSIONS: run python tools/refresh_vendor.py", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the files against VERSIONS")
    if parser.parse_args().check:
        return check()
    refresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
