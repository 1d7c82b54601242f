"""What a user sees for a broken polyaxonfile: file:line:column, the field, expected and found."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mizzen.errors import SpecError
from mizzen.spec import load_dict, load_file, load_text

Write = Callable[[str, str], Path]


def error_of(path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_file(path)
    return info.value


def test_typo_in_a_key_names_the_line_and_suggests_the_key(write: Write) -> None:
    path = write(
        "train.yaml",
        """
        version: 1.1
        kind: component
        run:
          kind: job
          contaner:
            image: python:3.11
        """,
    )
    error = error_of(path)
    assert str(error) == f"{path}:5:3 run: unknown key 'contaner' (did you mean 'container'?)"
    assert (error.first.line, error.first.column, error.first.field_path) == (5, 3, "run")


def test_wrong_type_names_what_was_expected_and_found(write: Write) -> None:
    path = write(
        "train.yaml",
        """
        version: 1.1
        kind: component
        run:
          kind: job
          container:
            image: python:3.11
            command: 42
        """,
    )
    assert str(error_of(path)) == f"{path}:7:14 run.container.command: expected a list of strings, got 42"


def test_wrong_item_in_a_list_points_at_the_item(write: Write) -> None:
    path = write(
        "train.yaml",
        """
        kind: component
        run:
          kind: job
          container:
            args: [--epochs, 3]
        """,
    )
    assert str(error_of(path)) == f"{path}:5:22 run.container.args[1]: expected a string, got 3"


def test_yaml_syntax_error_reports_its_line(write: Write) -> None:
    path = write(
        "broken.yaml",
        """
        version: 1.1
        kind: component
        run:
          kind: job
           container: x
        """,
    )
    error = error_of(path)
    assert str(error).startswith(f"{path}:5:")
    assert "invalid YAML" in str(error)
    assert error.first.line == 5


def test_a_tab_in_the_indentation_is_called_out(write: Write) -> None:
    path = write("tabs.yaml", "kind: component\nrun:\n\tkind: job\n")
    error = error_of(path)
    assert error.first.line == 3
    assert "indent YAML with spaces" in str(error)


def test_continuous_distribution_in_a_grid_names_the_param(write: Write) -> None:
    path = write(
        "sweep.yaml",
        """
        version: 1.1
        kind: operation
        hubRef: train
        matrix:
          kind: grid
          params:
            lr:
              kind: uniform
              value: [0.001, 0.1]
        """,
    )
    error = error_of(path)
    assert str(error).startswith(
        f"{path}:8:13 matrix.params.lr.kind: 'uniform' cannot be used in a grid matrix"
    )
    assert "choice" in str(error)


def test_non_uniform_distribution_in_bayes_is_rejected(write: Write) -> None:
    path = write(
        "bo.yaml",
        """
        kind: operation
        hubRef: train
        matrix:
          kind: bayes
          numInitialRuns: 2
          maxIterations: 5
          metric: {name: loss, optimization: minimize}
          params:
            lr: {kind: normal, value: {loc: 0, scale: 1}}
        """,
    )
    error = error_of(path)
    assert error.first.field_path == "matrix.params.lr.kind"
    assert "'normal' cannot be used in a bayes matrix" in str(error)


@pytest.mark.parametrize("kind", ["experiment", "group", "notebook"])
def test_legacy_v0_file_says_it_is_v0_syntax(write: Write, kind: str) -> None:
    path = write("polyaxonfile.yml", f"version: 1\nkind: {kind}\nrun:\n  cmd: python train.py\n")
    error = error_of(path)
    assert str(error).startswith(f"{path}:2:7 kind: kind '{kind}' is Polyaxon v0.x syntax")


def test_unknown_top_level_kind_suggests_the_right_one(write: Write) -> None:
    path = write("op.yaml", "version: 1\nkind: operations\n")
    assert str(error_of(path)) == (
        f"{path}:2:7 kind: expected 'component' or 'operation', got 'operations' (did you mean 'operation'?)"
    )


def test_unknown_run_kind_lists_the_kinds(write: Write) -> None:
    path = write("c.yaml", "kind: component\nrun:\n  kind: jbo\n")
    message = str(error_of(path))
    assert message.startswith(
        f"{path}:3:9 run.kind: unknown kind 'jbo' (did you mean 'job'?); expected one of: job,"
    )


def test_missing_run_kind(write: Write) -> None:
    path = write("c.yaml", "kind: component\nrun:\n  container: {image: x}\n")
    message = str(error_of(path))
    assert message.startswith(f"{path}:2:1 run: missing required key 'kind' (one of: job, service, dag")


def test_missing_required_key_points_at_its_parent(write: Write) -> None:
    path = write("c.yaml", "kind: component\ninputs:\n- type: int\n")
    assert str(error_of(path)) == f"{path}:3:3 inputs[0]: missing required key 'name'"


def test_bad_literal_value_suggests_the_closest(write: Write) -> None:
    path = write(
        "op.yaml",
        """
        kind: operation
        hubRef: train
        matrix:
          kind: random
          numRuns: 2
          params:
            a: {kind: choice, value: [1, 2]}
          earlyStopping:
          - kind: metric_early_stopping
            metric: loss
            value: 0.1
            optimization: maximise
        """,
    )
    assert str(error_of(path)) == (
        f"{path}:12:19 matrix.earlyStopping[0].optimization: "
        "expected one of 'maximize', 'minimize', got 'maximise' (did you mean 'maximize'?)"
    )


def test_io_type_typo(write: Write) -> None:
    path = write("c.yaml", "kind: component\ninputs:\n- name: a\n  type: string\n")
    error = error_of(path)
    assert error.first.field_path == "inputs[0].type"
    assert "got 'string' (did you mean 'str'?)" in str(error)


def test_operation_keys_in_a_component_are_explained(write: Write) -> None:
    path = write("c.yaml", "kind: component\nparams:\n  lr: {value: 0.1}\n")
    assert str(error_of(path)) == (
        f"{path}:2:1: unknown key 'params': "
        "'params' belongs to an operation (kind: operation), not to a component"
    )


def test_v0_top_level_keys_are_explained(write: Write) -> None:
    path = write("c.yaml", "kind: component\ndeclarations:\n  lr: 0.1\n")
    assert "Polyaxon v0.x syntax" in str(error_of(path))


def test_string_where_an_integer_is_expected(write: Write) -> None:
    path = write(
        "op.yaml", "kind: operation\nhubRef: x\njoins:\n- query: 'status: succeeded'\n  limit: '5'\n"
    )
    assert str(error_of(path)) == f"{path}:5:10 joins[0].limit: expected an integer, got '5'"


def test_union_errors_merge_into_one_message(write: Write) -> None:
    path = write("c.yaml", "kind: component\nrun:\n  kind: job\n  init:\n  - paths: 42\n")
    assert str(error_of(path)) == f"{path}:5:12 run.init[0].paths: expected a list or a string, got 42"


def test_unsupported_version(write: Write) -> None:
    path = write("c.yaml", "version: 2\nkind: component\n")
    assert "unsupported spec version 2" in str(error_of(path))


def test_several_problems_are_reported_at_most_a_handful(write: Write) -> None:
    lines = ["kind: component", "run:", "  kind: job", "  container:"]
    lines += [f"    bad{i}: 1" for i in range(8)]
    path = write("c.yaml", "\n".join(lines) + "\n")
    error = error_of(path)
    assert len(error.problems) == 6
    assert error.problems[-1].message == "... and 3 more problems"


def test_empty_and_non_mapping_files(write: Write) -> None:
    assert "the file is empty" in str(error_of(write("empty.yaml", "")))
    assert str(error_of(write("list.yaml", "- a\n- b\n"))).endswith(
        "expected a polyaxonfile (a mapping of keys), got a list"
    )


def test_missing_file_and_binary_file(tmp_path: Path) -> None:
    assert str(error_of(tmp_path / "nope.yaml")) == f"{tmp_path / 'nope.yaml'}: no such file"
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00kind")
    assert "not a UTF-8 text file" in str(error_of(binary))


def test_json_file_errors_are_located(write: Write) -> None:
    path = write("op.json", '{\n  "kind": "component",\n  "run": {"kind": "job", "contaner": {}}\n}\n')
    assert str(error_of(path)) == f"{path}:3:26 run: unknown key 'contaner' (did you mean 'container'?)"
    broken = write("broken.json", '{\n  "kind": "component",\n}\n')
    error = error_of(broken)
    assert error.first.line == 3
    assert "invalid JSON" in str(error)


def test_dict_errors_name_the_source_and_field() -> None:
    with pytest.raises(SpecError) as info:
        load_dict({"kind": "component", "run": {"kind": "job", "container": {"image": 3}}}, source="sdk")
    assert str(info.value) == "sdk run.container.image: expected a string, got 3"


def test_text_source_is_named() -> None:
    with pytest.raises(SpecError) as info:
        load_text("kind: component\ntags: 3\n", source="inline.yaml")
    assert str(info.value) == "inline.yaml:2:7 tags: expected a list, got 3"


def test_duplicate_keys_are_reported_not_silently_dropped(write: Write) -> None:
    path = write(
        "dup.yaml",
        """
        kind: component
        run:
          kind: job
          container:
            image: a
            image: b
        """,
    )
    assert str(error_of(path)) == (
        f"{path}:6:5 run.container: duplicate key 'image' (first written at line 5): "
        "YAML would keep only the last"
    )
    flow = write("flow.yaml", "kind: component\ntags: [a]\nrun: {kind: job, kind: service}\n")
    assert "3:18 run: duplicate key 'kind'" in str(error_of(flow))


def test_python_objects_in_an_sdk_dict_are_refused() -> None:
    with pytest.raises(SpecError) as info:
        load_dict({"kind": "operation", "hubRef": "x", "params": {"a": {"value": object()}}}, source="sdk")
    assert str(info.value) == (
        "sdk params.a.value: expected plain data (string, number, boolean, list or mapping), "
        "got a Python object"
    )


def test_a_tagged_value_yaml_cannot_cast_is_a_located_error(write: Write) -> None:
    path = write(
        "tagged.yaml",
        "version: 1.1\nkind: component\ntags: [!!int abc]\nrun: {kind: job, container: {image: x}}\n",
    )
    message = str(error_of(path))
    assert "tagged.yaml:3:" in message and "'abc'" in message
