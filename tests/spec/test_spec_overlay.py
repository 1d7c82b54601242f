"""Several -f files: presets laid over the main polyaxonfile, honouring patchStrategy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from spec_corpus import CORPUS

from mizzen.errors import SpecError
from mizzen.spec import ComponentSpec, JobSpec, OperationSpec, load_files
from mizzen.spec.overlay import merge

Write = Callable[[str, str], Path]

MAIN = """
version: 1.1
kind: component
name: train
tags: [a]
termination: {maxRetries: 1}
run:
  kind: job
  init:
  - git: {url: https://github.com/org/repo}
  container:
    image: python:3.11
    command: [python, train.py]
    resources:
      requests: {cpu: 1}
"""


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("replace", {"a": {"x": 2, "y": 1, "z": 3}, "l": [3], "s": "new"}),
        ("isnull", {"a": {"x": 1, "y": 1, "z": 3}, "l": [1, 2], "s": "old"}),
        ("post_merge", {"a": {"x": 2, "y": 1, "z": 3}, "l": [1, 2, 3], "s": "new"}),
        ("pre_merge", {"a": {"x": 1, "y": 1, "z": 3}, "l": [3, 1, 2], "s": "old"}),
    ],
)
def test_merge_strategies(strategy: str, expected: dict[str, object]) -> None:
    base = {"a": {"x": 1, "y": 1}, "l": [1, 2], "s": "old", "n": None}
    patch = {"a": {"x": 2, "z": 3}, "l": [3], "s": "new"}
    assert merge(base, patch, strategy) == {**expected, "n": None}
    assert base == {"a": {"x": 1, "y": 1}, "l": [1, 2], "s": "old", "n": None}  # inputs untouched


def test_null_values_are_filled_by_every_strategy() -> None:
    for strategy in ("replace", "isnull", "post_merge", "pre_merge"):
        assert merge({"a": None}, {"a": 5}, strategy) == {"a": 5}
        assert merge({"a": 5}, {"a": None}, strategy) == {"a": 5}


def test_run_patch_preset_goes_into_the_inline_run(write: Write) -> None:
    main = write("main.yaml", MAIN)
    gpu = write(
        "gpu.yaml",
        """
        patchStrategy: post_merge
        runPatch:
          container:
            resources:
              limits: {nvidia.com/gpu: 1}
          environment:
            nodeSelector: {pool: gpu}
        termination: {ttl: 60}
        """,
    )
    loaded = load_files([main, gpu])
    assert isinstance(loaded.spec, ComponentSpec)
    run = loaded.spec.run
    assert isinstance(run, JobSpec) and run.container is not None and run.container.resources is not None
    assert run.container.resources.requests == {"cpu": 1}
    assert run.container.resources.limits == {"nvidia.com/gpu": 1}
    assert run.environment is not None and run.environment.node_selector == {"pool": "gpu"}
    assert loaded.spec.termination is not None
    assert (loaded.spec.termination.max_retries, loaded.spec.termination.ttl) == (1, 60)
    # positions follow the file that wrote each field
    assert loaded.source_map.locate("run.environment.nodeSelector.pool") == (str(gpu), 7, 26)
    assert loaded.source_map.locate("run.container.image") == (str(main), 11, 12)


def test_isnull_preset_keeps_what_the_main_file_sets(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write(
        "preset.yaml",
        """
        patchStrategy: isnull
        runPatch:
          container:
            image: other:1
            workingDir: /code
        """,
    )
    run = load_files([main, preset]).spec.run
    assert isinstance(run, JobSpec) and run.container is not None
    assert (run.container.image, run.container.working_dir) == ("python:3.11", "/code")


def test_default_strategy_is_replace_and_lists_are_replaced(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "runPatch:\n  init:\n  - git: {url: https://github.com/org/other}\n")
    run = load_files([main, preset]).spec.run
    assert isinstance(run, JobSpec) and run.init is not None
    assert [step.git.url for step in run.init if step.git] == ["https://github.com/org/other"]


def test_post_merge_appends_lists(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "patchStrategy: post_merge\ntags: [b]\nrunPatch:\n  connections: [data]\n")
    spec = load_files([main, preset]).spec
    assert spec.tags == ["a", "b"]


def test_operation_sections_over_a_component_wrap_it(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "params:\n  lr: {value: 0.1}\nqueue: gpu-queue\n")
    loaded = load_files([main, preset])
    assert isinstance(loaded.spec, OperationSpec)
    assert loaded.spec.component is not None and loaded.spec.component.name == "train"
    assert loaded.spec.params is not None and loaded.spec.params["lr"].value == 0.1
    assert loaded.source_map.locate("component.run.container.image") == (str(main), 11, 12)


def test_preset_over_a_referenced_component_lands_in_run_patch(write: Write) -> None:
    main = write("op.yaml", "version: 1.1\nkind: operation\nhubRef: tensorboard\n")
    preset = CORPUS / "polyaxon-quick-start/scheduling/helpers/scheduling-preset.yaml"
    spec = load_files([main, preset]).spec
    assert isinstance(spec, OperationSpec)
    assert spec.run_patch is not None and spec.run_patch.environment is not None
    assert spec.run_patch.environment.node_selector == {"polyaxon": "compute"}


def test_invalid_preset_is_reported_in_its_own_file(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "runPatch:\n  contaner: {}\n")
    with pytest.raises(SpecError) as info:
        load_files([main, preset])
    assert str(info.value) == f"{preset}:2:3 runPatch: unknown key 'contaner' (did you mean 'container'?)"


def test_merged_result_is_validated_and_located(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "runPatch:\n  kind: service\n  rewritePath: true\n")
    spec = load_files([main, preset]).spec
    assert spec.run is not None and spec.run.kind == "service"
    bad = write("bad.yaml", "runPatch:\n  replicas: 2\n")
    with pytest.raises(SpecError) as info:
        load_files([main, bad])
    assert str(info.value) == f"{bad}:2:3 run: unknown key 'replicas'"


def test_a_preset_cannot_say_what_runs(write: Write) -> None:
    main = write("main.yaml", MAIN)
    preset = write("preset.yaml", "hubRef: other\n")
    with pytest.raises(SpecError) as info:
        load_files([main, preset])
    assert str(info.value).startswith(f"{preset}:1:1 hubRef: a preset cannot set 'hubRef'")


def test_no_file_given() -> None:
    with pytest.raises(SpecError):
        load_files([])
