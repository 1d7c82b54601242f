"""Shared helpers for the spec tests: writing polyaxonfiles and reading the corpus manifest."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "polyaxonfiles"


def corpus_rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def corpus_file(row: dict[str, str]) -> Path:
    """The manifest path; one row carries a note in parentheses after the file name."""
    path = CORPUS / row["path"]
    if not path.exists():
        path = CORPUS / row["path"].split(" (")[0]
    return path


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
