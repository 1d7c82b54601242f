"""The polyaxonfile corpus's manifest, as the spec tests read it (the corpus is found by shared_data)."""

from __future__ import annotations

import csv
from pathlib import Path

from shared_data import corpus_dir

CORPUS = corpus_dir()

# Files the reference accepts that Mizzen rejects on purpose (rows of tests/conformance/DIVERGENCES.md):
# path -> what the error names.
REJECTED_ON_PURPOSE = {
    # `nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: {}`: the API server rejects a
    # NodeSelector without terms, so `mizzen check` does.
    "cli/cli/tests/fixtures/plain/job_file_with_environment.yml": "nodeSelectorTerms",
}


def corpus_rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def corpus_file(row: dict[str, str]) -> Path:
    """The manifest path; one row carries a note in parentheses after the file name."""
    path = CORPUS / row["path"]
    if not path.exists():
        path = CORPUS / row["path"].split(" (")[0]
    return path
