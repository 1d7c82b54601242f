"""Field paths and positions: what the compiler uses to point at a line in the user's file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mizzen.errors import CompileError, SpecError
from mizzen.spec import format_path, load_file, load_text, parse_path

Write = Callable[[str, str], Path]


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        (("run", "init", 0, "git"), "run.init[0].git"),
        (
            ("run", "container", "resources", "limits", "nvidia.com/gpu"),
            'run.container.resources.limits["nvidia.com/gpu"]',
        ),
        (("params", 'we"ird'), 'params["we\\"ird"]'),
        ((0, "a"), "[0].a"),
        ((), ""),
    ],
)
def test_format_and_parse_are_inverse(parts: tuple[str | int, ...], text: str) -> None:
    assert format_path(parts) == text
    assert parse_path(text) == parts


def test_locate_values_keys_and_nearest_parent(write: Write) -> None:
    path = write(
        "train.yaml",
        """
        version: 1.1
        kind: component
        run:
          kind: job
          container:
            image: python:3.11
            command: [python, train.py]
        """,
    )
    loaded = load_file(path)
    assert loaded.source_map.locate("run.container.image") == (str(path), 6, 12)
    assert loaded.source_map.locate_key("run.container.image") == (str(path), 6, 5)
    assert loaded.source_map.locate(("run", "container", "command", 1)) == (str(path), 7, 23)
    # not written: falls back to the nearest written parent
    assert loaded.source_map.locate("run.container.workingDir") == (str(path), 6, 5)
    assert loaded.source_map.locate("nothing.here") == (str(path), 1, 1)


def test_problem_helper_for_the_compiler(write: Write) -> None:
    path = write("op.yaml", "kind: operation\nhubRef: train\nparams:\n  lr: {value: abc}\n")
    loaded = load_file(path)
    error = CompileError(loaded.problem("params.lr.value", "expected a float, got 'abc'"))
    assert str(error) == f"{path}:4:15 params.lr.value: expected a float, got 'abc'"


def test_anchors_and_merge_keys_are_located(write: Write) -> None:
    path = write(
        "anchors.yaml",
        """
        kind: component
        run:
          kind: job
          container: &c
            image: base
            command: [a]
          sidecars:
          - <<: *c
            name: side
        """,
    )
    loaded = load_file(path)
    assert loaded.source_map.locate("run.sidecars[0].name") == (str(path), 9, 11)
    assert loaded.source_map.locate("run.sidecars[0].image") == (str(path), 5, 12)
    assert loaded.data["run"]["sidecars"][0] == {"image": "base", "command": ["a"], "name": "side"}


def test_recursive_alias_does_not_hang() -> None:
    with pytest.raises(SpecError) as info:
        load_text("kind: component\ntags: &t [a, *t]\n", "rec.yaml")
    assert "tags[1]: expected a string, got a list" in str(info.value)


def test_data_is_normalised_and_snake_case_fields_are_found_by_camel_case_paths(write: Write) -> None:
    path = write(
        "snake.yaml",
        """
        kind: operation
        hubRef: train
        params:
          lr: 0.1
        run_patch:
          container:
            volume_mounts:
            - {name: data, mount_path: /data}
        """,
    )
    loaded = load_file(path)
    assert loaded.raw["run_patch"]["container"]["volume_mounts"][0]["mount_path"] == "/data"
    assert loaded.data["params"] == {"lr": {"value": 0.1}}
    assert loaded.data["runPatch"]["container"]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert loaded.source_map.locate("runPatch.container.volumeMounts[0].mountPath") == (str(path), 8, 32)
    assert loaded.source_map.locate("run_patch.container.volume_mounts[0].mount_path") == (str(path), 8, 32)
