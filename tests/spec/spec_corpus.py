"""Where the polyaxonfile corpus is and how to read its manifest (shared by the spec tests)."""

from __future__ import annotations

import csv
from pathlib import Path

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
