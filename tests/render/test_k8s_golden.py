"""Golden manifests pin what ~20 representative corpus specs render to, byte for byte.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/render/test_k8s_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from k8s_corpus import CorpusFile, compile_runs, corpus_context, corpus_files
from k8s_plans import s3_store

import k8s_schema
from mizzen.render.k8s import RenderOptions, render_plan

GOLDEN = Path(__file__).with_name("golden")
OPTIONS = RenderOptions(
    artifacts_store=s3_store(),
    token_secret="mizzen-run-token",
    init_image="registry.local/mizzen/mizzen:0.1.0",
)
# (corpus file, run label): one of each kind and of the options people use most.
REPRESENTATIVE = [
    ("polyaxon-quick-start/scheduling/experimentation/typed.yaml", "run"),
    ("polyaxon-quick-start/scheduling/experimentation/operation.yaml", "run"),
    ("polyaxon-quick-start/scheduling/optimization/hyperparams_random_with_concurrency.yaml", "trial"),
    ("polyaxon-quick-start/scheduling/schedules/recurrent_training.yaml", "run"),
    ("polyaxon-quick-start/scheduling/services/notebook.yaml", "run"),
    ("polyaxon-hub/tensorboard/single-run.yaml", "run"),
    ("polyaxon-hub/vscode/latest.yaml", "run"),
    ("polyaxon-hub/streamlit/latest.yaml", "run"),
    ("polyaxon-examples/in_cluster/build_image/build-ml.yaml", "run"),
    ("polyaxon-examples/in_cluster/keras/mnist/polyaxonfile_hyperparams_grid.yml", "trial"),
    ("cli/cli/tests/fixtures/plain/distributed_tensorflow_file.yml", "run"),
    ("polyaxon-examples/in_cluster/kubeflow/tfjob/operation-gpu.yml", "run"),
    ("cli/cli/tests/fixtures/plain/distributed_pytorch_file.yml", "run"),
    ("polyaxon-examples/in_cluster/kubeflow/pytorchjob/polyaxonfile.yaml", "run"),
    ("cli/cli/tests/fixtures/plain/distributed_mpi_file.yml", "run"),
    ("polyaxon-examples/in_cluster/mpijob/polyaxonfile.yaml", "run"),
    ("cli/cli/tests/fixtures/plain/distributed_ray_file.yml", "run"),
    ("cli/cli/tests/fixtures/plain/distributed_dask_file.yml", "run"),
    ("polyaxon-examples/in_cluster/pytorch_lightning/polyaxonfile.yml", "run"),
    ("cli/cli/tests/fixtures/plain/simple_job_run_patch.yml", "run"),
    ("users/sleep3r__polyaxon-vastai-example/polyaxonfile.yaml", "run"),
]


def golden_name(path: str, label: str) -> str:
    stem = re.sub(r"\.(ya?ml|json)$", "", path.replace(" (commented-out cmd lines dropped)", ""))
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return f"{slug}.yaml" if label == "run" else f"{slug}--{label}.yaml"


def _entry(path: str) -> CorpusFile:
    return next(f for f in corpus_files() if f.path == path)


def render_yaml(path: str, label: str) -> str:
    plans = dict(compile_runs(_entry(path)))
    objects = render_plan(plans[label], corpus_context(), OPTIONS)
    k8s_schema.assert_valid(objects)
    header = f"# Rendered from the corpus file {path} ({label}); UPDATE_GOLDEN=1 regenerates.\n"
    return header + yaml.safe_dump_all(objects, sort_keys=False, width=100)


@pytest.mark.parametrize(("path", "label"), REPRESENTATIVE, ids=[golden_name(*r) for r in REPRESENTATIVE])
def test_rendering_matches_the_golden_file(path: str, label: str) -> None:
    golden = GOLDEN / golden_name(path, label)
    rendered = render_yaml(path, label)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
    assert golden.exists(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(), f"{golden.name} changed: review, then UPDATE_GOLDEN=1"


def test_every_golden_file_belongs_to_a_representative_spec() -> None:
    expected = {golden_name(*r) for r in REPRESENTATIVE}
    assert {p.name for p in GOLDEN.glob("*.yaml")} == expected


def test_golden_files_cover_every_kind() -> None:
    kinds = {doc["kind"] for p in GOLDEN.glob("*.yaml") for doc in yaml.safe_load_all(p.read_text()) if doc}
    assert {
        "Job",
        "Deployment",
        "Service",
        "TFJob",
        "PyTorchJob",
        "MPIJob",
        "RayJob",
        "DaskCluster",
    } <= kinds
