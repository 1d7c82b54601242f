"""Every polyaxonfile of the public corpus: Mizzen's parse-level verdict against the reference's.

The reference (polyaxon 2.18.0) lint verdict is the ``ref_lint`` column. Where Mizzen differs on
purpose, the file is listed in ``PARSE_DIVERGENCES`` with its reason (and in
tests/conformance/DIVERGENCES.md).
"""

from __future__ import annotations

import pytest
from spec_corpus import REJECTED_ON_PURPOSE, corpus_file, corpus_rows

from mizzen.errors import SpecError
from mizzen.spec import load_file

# Files the reference rejects at lint but Mizzen's spec accepts, and why.
PARSE_DIVERGENCES = {
    # The file is fine; its refs are placeholders that fail to resolve: the compiler's error.
    "cli/cli/tests/fixtures/pipelines/ref_pipeline.yml": "refs are resolved (and rejected) by the compiler",
    # hubRef typo 'dokerizer': resolving hub refs is the compiler's job, the spec is well formed.
    "polyaxon-quick-start/scheduling/build-containers/dag_with_container_build.yaml": "hubRef: compiler",
    # spec v1.1 named TPE 'hyperopt'; 2.x renamed it 'tpe'. Mizzen reads both.
    "polyaxon-quick-start/scheduling/optimization/hyperparams_hyperopot.yaml": "matrix kind hyperopt = tpe",
}

ROWS = corpus_rows()
ACCEPTED = [row for row in ROWS if row["ref_lint"] == "ok" and row["path"] not in REJECTED_ON_PURPOSE]
REJECTED = [row for row in ROWS if row["ref_lint"] == "error" and row["path"] not in PARSE_DIVERGENCES]


def test_the_manifest_is_what_these_tests_expect() -> None:
    assert len(ROWS) == 150
    assert len(ACCEPTED) + len(REJECTED_ON_PURPOSE) == 130
    assert all(corpus_file(row).is_file() for row in ROWS)


@pytest.mark.parametrize("row", ACCEPTED, ids=[row["path"] for row in ACCEPTED])
def test_files_the_reference_accepts_load(row: dict[str, str]) -> None:
    loaded = load_file(corpus_file(row))
    assert loaded.kind == (row["kind"] if row["kind"] in ("component", "operation") else "operation")


@pytest.mark.parametrize("row", REJECTED, ids=[row["path"] for row in REJECTED])
def test_files_the_reference_rejects_fail_with_a_located_message(row: dict[str, str]) -> None:
    path = corpus_file(row)
    with pytest.raises(SpecError) as info:
        load_file(path)
    first = info.value.first
    assert first.file == str(path)
    assert first.line is not None and first.line >= 1
    assert str(info.value).startswith(f"{path}:{first.line}:")


@pytest.mark.parametrize("path", sorted(REJECTED_ON_PURPOSE))
def test_files_rejected_on_purpose_fail_with_a_located_message(path: str) -> None:
    row = next(row for row in ROWS if row["path"] == path)
    assert row["ref_lint"] == "ok"
    with pytest.raises(SpecError) as info:
        load_file(corpus_file(row))
    assert str(info.value).startswith(f"{corpus_file(row)}:{info.value.first.line}:")
    assert REJECTED_ON_PURPOSE[path] in str(info.value)


def test_divergent_files_load() -> None:
    for row in ROWS:
        if row["path"] in PARSE_DIVERGENCES:
            assert row["ref_lint"] == "error"
            load_file(corpus_file(row))


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("users/granularai__fabric/polyaxonfile.yml", "4:7 kind: kind 'experiment' is Polyaxon v0.x syntax"),
        ("users/fchollet__deep-learning-with-python-notebooks/polyaxonfile.yml", "4:7 kind: kind 'notebook'"),
        ("polyaxon-examples/in_cluster/mxnet/mnist/polyaxonfile_hyperparams.yml", "16:14: invalid YAML"),
        ("users/christiaan-vlist__polyaxon_spike/polyaxonfile.yaml", "21:7: invalid YAML"),
        (
            "polyaxon-examples/in_cluster/keras/bidirectional_lstm/polyaxonfile_hyperparams.yml",
            "2:7 kind: expected 'component' or 'operation', got 'operations' (did you mean 'operation'?)",
        ),
        (
            "polyaxon-quick-start/scheduling/joins/performance_based_tensorboard.yaml",
            "7:10 joins[0].limit: expected an integer, got '5'",
        ),
        ("cli/cli/tests/fixtures/samples/image_pull_secret.yaml", "10:1: unknown key 'secretResources'"),
        (
            "cli/cli/tests/fixtures/typing/matrix_job_required_inputs_file_wrong_matrix_type.yml",
            "20:13 matrix.params.lr.kind: unknown kind 'activation'",
        ),
    ],
)
def test_messages_for_broken_corpus_files(suffix: str, expected: str) -> None:
    row = next(row for row in ROWS if row["path"].startswith(suffix))
    path = corpus_file(row)
    with pytest.raises(SpecError) as info:
        load_file(path)
    assert f"{path}:{expected}" in str(info.value)
