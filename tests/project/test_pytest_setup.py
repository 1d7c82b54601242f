"""The test setup declares only what the tests use: markers, and xdist's distribution mode."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def used_marks() -> set[str]:
    """Names after ``pytest.mark.`` / ``mark.`` anywhere in the tests (decorators and pytestmark)."""
    return {
        name
        for path in (REPO / "tests").rglob("*.py")
        for name in re.findall(r"\bmark\.([A-Za-z_]\w*)", path.read_text())
    }


def test_every_declared_marker_is_used() -> None:
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":", 1)[0].strip() for line in options.get("markers", [])}
    assert declared - used_marks() == set(), "markers declared in pyproject.toml that no test uses"


def test_grouped_distribution_only_with_groups() -> None:
    """``--dist loadgroup`` only means something when some test has an ``xdist_group`` mark."""
    makefile = (REPO / "Makefile").read_text()
    if "--dist loadgroup" in makefile:
        assert "xdist_group" in used_marks(), "the Makefile asks for --dist loadgroup; no test is grouped"
