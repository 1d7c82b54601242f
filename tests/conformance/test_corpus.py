"""Mizzen's verdict on every real polyaxonfile of the corpus, against the reference's (polyaxon 2.18.0).

Each row of MANIFEST.tsv is checked the way `mizzen check -f FILE` checks it, with hubRefs
resolved from the corpus's `polyaxon-hub/` and the two raw-GitHub URL prefixes mirrored to their
folders (as the corpus README describes). A file listed with `needs_params` must be rejected
without its params and compile once `params_to_compile` are given. Every verdict that differs from
the reference must be a row of DIVERGENCES.md (with its reason), and the agreement must stay at
least 98% overall and total on the files the reference accepts, except one that Kubernetes would
reject as written.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from mizzen.compiler.compile import compile_files
from mizzen.errors import MizzenError
from mizzen.settings import Settings
from shared_data import corpus_dir

REPO = Path(__file__).resolve().parents[2]
CORPUS = corpus_dir()
DIVERGENCES = Path(__file__).with_name("DIVERGENCES.md")
RAW = "https://raw.githubusercontent.com/polyaxon"
SUFFIX = " (commented-out cmd lines dropped)"


@dataclass(frozen=True)
class Row:
    path: str
    ref_ok: bool
    params: dict[str, str]

    @property
    def file(self) -> Path:
        literal = CORPUS / self.path
        return literal if literal.exists() else CORPUS / self.path.replace(SUFFIX, "")


def split_params(text: str) -> dict[str, str]:
    """`loss=x flag=true` / `config={"a": 1}`: pairs split where a new `name=` starts."""
    pairs = [p for p in re.split(r"\s+(?=[A-Za-z_][\w-]*=)", text.strip()) if p]
    return dict(pair.split("=", 1) for pair in pairs)


def read_manifest() -> list[Row]:
    with (CORPUS / "MANIFEST.tsv").open(newline="") as handle:
        return [
            Row(r["path"], r["ref_verdict"] == "ok", split_params(r["params_to_compile"]))
            for r in csv.DictReader(handle, delimiter="\t")
        ]


ROWS = read_manifest()


def divergence_rows() -> list[list[str]]:
    """The cells of each row of DIVERGENCES.md's table (its header and separator left out)."""
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in DIVERGENCES.read_text().splitlines()
        if line.startswith("|")
    ]
    return rows[2:]


def corpus_paths(cell: str) -> list[str]:
    return re.findall(r"`([^`]+\.(?:ya?ml|json))`", cell)


def documented_divergences() -> set[str]:
    """Corpus paths named (in backticks) in the first column of DIVERGENCES.md's table."""
    return {path for cells in divergence_rows() for path in corpus_paths(cells[0])}


REFERENCE_LINE = re.compile(r"# reference \(polyaxon 2\.18\.0\): (.+)")


def outcome(example: Path, reference: str) -> str:
    """Mizzen's outcome on ``example`` as `mizzen check` gets it, in the words ``reference`` uses."""
    try:
        compiled = compile_files([example], {}, settings())
    except MizzenError:
        return "rejects"
    if reference.startswith("command:"):
        assert compiled.plan is not None and compiled.plan.main.pod.main is not None
        return f"command: {json.dumps(compiled.plan.main.pod.main.command)}"
    return "accepts with warnings" if compiled.warnings else "accepts"


@cache
def settings() -> Settings:
    mirrors = ",".join(
        f"{RAW}/{repo}/master/={CORPUS / repo}" for repo in ("polyaxon-quick-start", "polyaxon-examples")
    )
    return Settings(hub_path=str(CORPUS / "polyaxon-hub"), url_mirrors=mirrors)


def verdict(row: Row, params: dict[str, str] | None = None) -> tuple[bool, str]:
    try:
        compile_files([row.file], params or {}, settings())
    except MizzenError as exc:
        return False, str(exc)
    return True, ""


@cache
def results() -> dict[str, tuple[bool, str]]:
    return {row.path: verdict(row) for row in ROWS}


def test_the_corpus_is_there() -> None:
    assert len(ROWS) == 150, f"expected the 150-file corpus at {CORPUS} (set MIZZEN_CORPUS)"


@pytest.mark.parametrize("row", ROWS, ids=[r.path for r in ROWS])
def test_verdict_matches_the_reference_or_is_documented(row: Row) -> None:
    accepted, message = results()[row.path]
    if accepted != row.ref_ok:
        assert row.path in documented_divergences(), (
            f"{row.path}: reference {'accepts' if row.ref_ok else 'rejects'} it, Mizzen "
            f"{'accepts' if accepted else 'rejects'} it ({message}); document it in DIVERGENCES.md"
        )
    if not accepted:
        assert "Traceback" not in message and message.strip(), "a rejection needs a message"


@pytest.mark.parametrize("row", [r for r in ROWS if r.params], ids=[r.path for r in ROWS if r.params])
def test_files_that_need_params_compile_once_given(row: Row) -> None:
    accepted, message = verdict(row, row.params)
    assert accepted, f"{row.path} with {row.params}: {message}"


def test_agreement_is_total_on_accepted_files_and_at_least_98_percent_overall() -> None:
    outcomes = results()
    disagree_on_accepted = [r.path for r in ROWS if r.ref_ok and not outcomes[r.path][0]]
    # only files that Kubernetes would reject as written (documented rows of DIVERGENCES.md)
    assert disagree_on_accepted == [
        "cli/cli/tests/fixtures/plain/job_file_with_environment.yml",
    ]
    assert set(disagree_on_accepted) <= documented_divergences()
    agree = sum(outcomes[r.path][0] == r.ref_ok for r in ROWS)
    assert agree / len(ROWS) >= 0.98, f"{agree}/{len(ROWS)} verdicts agree"


def test_rejections_name_the_file_and_line() -> None:
    located = 0
    rejected = [r for r in ROWS if not results()[r.path][0]]
    for row in rejected:
        message = results()[row.path][1]
        if re.search(rf"{re.escape(row.file.name)}:\d+(:\d+)?", message):
            located += 1
    # every rejection names file:line, except the one whose file is a JSON with no position for `x`
    assert located >= len(rejected) - 1, f"{located}/{len(rejected)} rejections are located"


def test_every_documented_divergence_diverges() -> None:
    """A row of DIVERGENCES.md on which Mizzen does what the reference does is no divergence."""
    by_path = {row.path: row for row in ROWS}
    stale = []
    for case, example, *_ in divergence_rows():
        files = corpus_paths(case)
        if files:
            for path in files:
                row = by_path[path]
                accepted, _ = results()[path]
                if accepted == row.ref_ok:
                    stale.append(f"{path}: both {'accept' if accepted else 'reject'} it")
            continue
        named = re.fullmatch(r"`(divergences/[^`]+)`", example)
        if not named:
            stale.append(f"{case}: no corpus file and no example `divergences/NAME.yaml` to check it on")
            continue
        path = DIVERGENCES.parent / named.group(1)
        stated = REFERENCE_LINE.fullmatch(path.read_text().splitlines()[0])
        assert stated, f"{path}:1: state the reference's outcome: '# reference (polyaxon 2.18.0): ...'"
        if outcome(path, stated.group(1)) == stated.group(1):
            stale.append(f"{case} ({named.group(1)}): Mizzen also {stated.group(1)}")
    assert stale == [], "rows of DIVERGENCES.md that do not diverge"
