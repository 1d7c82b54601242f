"""The public polyaxonfile corpus, compiled the way ``mizzen check`` does, one Plan per run it makes.

A plain run gives its Plan; a sweep, its first sampled trial; a DAG, each op that compiles before
its upstream ops have run (ops that need upstream values are rendered by the scheduler later).
Connections come from a small catalog defining every name the corpus uses.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pydantic
from k8s_plans import corpus_catalog

from mizzen.compiler.compile import Compiled, compile_files
from mizzen.compiler.matrix import sample_values
from mizzen.compiler.plan import Plan, RunKind, RuntimeContext
from mizzen.errors import MizzenError
from mizzen.settings import Settings
from shared_data import corpus_dir

REPO = Path(__file__).resolve().parents[2]
CORPUS = corpus_dir()
RAW = "https://raw.githubusercontent.com/polyaxon"
SUFFIX = " (commented-out cmd lines dropped)"  # a MANIFEST note appended to some paths


@dataclass(frozen=True)
class CorpusFile:
    path: str  # as MANIFEST.tsv names it
    params: tuple[tuple[str, str], ...]

    @property
    def file(self) -> Path:
        literal = CORPUS / self.path
        return literal if literal.exists() else CORPUS / self.path.replace(SUFFIX, "")


def _split_params(text: str) -> tuple[tuple[str, str], ...]:
    """`loss=x flag=true config={"a": 1}`: pairs split where a new `name=` starts."""
    pairs = [p for p in re.split(r"\s+(?=[A-Za-z_][\w-]*=)", text.strip()) if p]
    return tuple((name, value) for name, _, value in (pair.partition("=") for pair in pairs))


@cache
def corpus_files() -> list[CorpusFile]:
    """Files the reference compiles, and those it compiles once their required params are given."""
    with (CORPUS / "MANIFEST.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        CorpusFile(row["path"], _split_params(row["params_to_compile"]))
        for row in rows
        if row["ref_verdict"] == "ok" or row["needs_params"].strip()
    ]


@cache
def settings() -> Settings:
    repos = ("polyaxon-quick-start", "polyaxon-examples")
    mirrors = ",".join(f"{RAW}/{repo}/master/={CORPUS / repo}" for repo in repos)
    return Settings(hub_path=str(CORPUS / "polyaxon-hub"), url_mirrors=mirrors)


def corpus_context() -> RuntimeContext:
    return RuntimeContext(
        owner_name="acme",
        project_name="corpus",
        uuid="c0a1b2c3d4e5f60718293a4b5c6d7e8f",
        name="corpus-run",
        namespace="mizzen-runs",
        api_host="http://mizzen-server.mizzen:8000",
    )


# Raised by the compiler on a few DAG ops (a Plan field it fills with the wrong shape); a compiler
# bug, reported, that makes the op "not compile" here rather than a renderer failure.
COMPILER_FAILURES = (MizzenError, pydantic.ValidationError)


def _dag_plans(compiled: Compiled) -> list[tuple[str, Plan]]:
    assert compiled.dag is not None and compiled.compiler is not None
    plans = []
    for name in compiled.dag.graph.order:
        op = compiled.dag.ops[name]
        values = sample_values(op.matrix) if op.matrix is not None else None
        try:
            plan = compiled.compiler.compile_dag_op(compiled, name, values=values)
        except COMPILER_FAILURES:
            continue  # needs upstream outputs: compiled by the scheduler once they exist
        if plan.kind not in (RunKind.DAG, RunKind.TUNER):
            plans.append((f"op-{name}", plan))
    return plans


def compile_runs(entry: CorpusFile) -> list[tuple[str, Plan]]:
    """(label, Plan) of each run the file makes that can compile now; raises when the file fails."""
    compiled = compile_files(
        [entry.file], dict(entry.params), settings(), context=corpus_context(), connections=corpus_catalog()
    )
    if compiled.kind == RunKind.DAG:
        return _dag_plans(compiled)
    if compiled.matrix is not None:
        assert compiled.compiler is not None
        return [("trial", compiled.compiler.compile_trial(compiled, sample_values(compiled.matrix)))]
    assert compiled.plan is not None
    return [("run", compiled.plan)]
