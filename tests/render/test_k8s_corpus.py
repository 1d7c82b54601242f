"""Every run of the public polyaxonfile corpus that compiles renders to objects that validate
strictly (kubernetes-validate for built-in kinds, the operators' CRDs for the rest).

A few files cannot become valid objects as written; each is listed with the reason, and the test
checks that it fails exactly that way (a file that starts to pass must leave the list)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from k8s_corpus import COMPILER_FAILURES, CORPUS, CorpusFile, compile_runs, corpus_context, corpus_files
from k8s_plans import s3_store

import k8s_schema
from mizzen.errors import ExecutorError
from mizzen.render.k8s import RenderOptions, render_plan

FIXTURES = "cli/cli/tests/fixtures"
NO_CONTAINER = "the run has no container to start"
CONFIG_NAME = "'configName' was unexpected"
# (file, run) -> what the renderer says: the file cannot run on Kubernetes as written.
EXPECTED_RENDER_ERRORS = {
    # The op's inline component wins over its hubRef (as in Polyaxon) and has no container;
    # `mizzen render` shows the op as a warning (tests/cli/test_render_corpus.py).
    (f"{FIXTURES}/pipelines/matrix_file.yml", "op-build"): NO_CONTAINER,
    (f"{FIXTURES}/pipelines/matrix_file_early_stopping.yml", "op-build"): NO_CONTAINER,
    (f"{FIXTURES}/pipelines/matrix_file_with_int_float_types.yml", "op-build"): NO_CONTAINER,
    # `connections: ["{{ destination.connection }}"]` while the destination input has no value yet.
    ("polyaxon-hub/buildah/latest.yaml", "run"): "uses connection '{{ destination.connection }}'",
}
# (file, run) -> the field an API server would reject: Polyaxon test fixtures that are not valid
# Kubernetes objects (the reference never validates them).
EXPECTED_INVALID = {
    # volumes named `my_ssh_secret` / `config_map` (not DNS labels), `configMap: {configName: ...}`
    (f"{FIXTURES}/plain/job_file_with_init.yml", "run"): CONFIG_NAME,
    (f"{FIXTURES}/plain/job_file_with_templated_file_init_and_to_env.yml", "run"): CONFIG_NAME,
}
OPTIONS = RenderOptions(artifacts_store=s3_store(), token_secret="mizzen-run-token")
FILES = corpus_files()


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 100, f"expected the polyaxonfile corpus at {CORPUS} (set MIZZEN_CORPUS)"


@pytest.mark.parametrize("entry", FILES, ids=[f.path for f in FILES])
def test_every_compiled_run_renders_to_valid_objects(entry: CorpusFile) -> None:
    try:
        runs = compile_runs(entry)
    except COMPILER_FAILURES:
        return  # not a file that compiles: the conformance suite judges those
    for label, plan in runs:
        key = (entry.path, label)
        if key in EXPECTED_RENDER_ERRORS:
            with pytest.raises(ExecutorError, match=_literal(EXPECTED_RENDER_ERRORS[key])):
                render_plan(plan, corpus_context(), OPTIONS)
            continue
        objects = render_plan(plan, corpus_context(), OPTIONS)
        assert objects, key
        problems = [problem for obj in objects for problem in k8s_schema.problems(obj)]
        if key in EXPECTED_INVALID:
            assert any(EXPECTED_INVALID[key] in problem for problem in problems), problems
        else:
            assert problems == [], f"{key}:\n" + "\n".join(problems)


def _literal(text: str) -> str:
    return re.escape(text)


def test_the_corpus_covers_every_kind_the_renderer_knows() -> None:
    kinds: Counter[str] = Counter()
    failures = 0
    for entry in FILES:
        try:
            runs = compile_runs(entry)
        except COMPILER_FAILURES:
            failures += 1
            continue
        for label, plan in runs:
            if (entry.path, label) not in EXPECTED_RENDER_ERRORS:
                kinds.update(obj["kind"] for obj in render_plan(plan, corpus_context(), OPTIONS))
    expected = {"Job", "Deployment", "Service", "TFJob", "PyTorchJob", "MPIJob", "RayJob", "DaskCluster"}
    assert expected <= set(kinds), kinds
    assert sum(kinds.values()) >= 130, kinds
    assert failures <= 2, f"{failures} corpus files stopped compiling"
