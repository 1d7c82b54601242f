"""The loader's fast paths give what the slow ones gave: PyYAML's values, the same source map."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
import yaml

from mizzen.errors import SpecError
from mizzen.spec import SourceMap, load_text
from mizzen.spec.base import Duration, SpecModel
from mizzen.spec.source import parse_text

DOCUMENTS = {
    "scalars": "a: [yes, no, ~, 1, -2, 0x1f, 0o17, 1_000, 1.5, .inf, 1e3, 2020-01-02, 'q', \"d\", x y]\n",
    "times": "t: 2020-01-02T03:04:05Z\nsexagesimal: 1:30\n",
    "tags": "s: !!str 12\nf: !!float 3\nb: !!binary aGVsbG8=\nset: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\n",
    "keys": "1: int\ntrue: bool\n~: null\n1.5: float\n",
    "aliases": "a: &x [1, {k: v}]\nb: *x\nc: {m: *x}\n",
    "merge": "base: &b {image: a, cmd: x}\njob: {<<: *b, name: j}\nmany: {<<: [*b, {extra: 1}], name: m}\n",
    "value key": "tags:\n  =: a\n",
    "nested": "a:\n  - b:\n      - c: [d, {e: f}]\n",
    "empty values": "a:\nb: []\nc: {}\nd: ''\n",
}


@pytest.mark.parametrize("text", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_yaml_values_are_pyyamls(text: str) -> None:
    data, _ = parse_text(text, "doc.yaml")
    assert data == yaml.safe_load(text)


def test_an_alias_is_one_object_as_in_pyyaml() -> None:
    data, _ = parse_text(DOCUMENTS["aliases"], "doc.yaml")
    assert data["b"] is data["a"]
    assert data["c"]["m"] is data["a"]


def test_a_recursive_alias_builds_a_recursive_list() -> None:
    data, _ = parse_text("tags: &t [a, *t]\n", "doc.yaml")
    assert data["tags"][1] is data["tags"]


def test_positions_made_on_first_read_cover_every_field() -> None:
    text = "kind: component\nrun:\n  kind: job\n  container: {image: a, command: [x, y]}\n"
    _, source_map = parse_text(text, "doc.yaml")
    assert source_map.locate("run.container.command[1]") == ("doc.yaml", 4, 38)
    assert source_map.locate_key("run.container") == ("doc.yaml", 4, 3)
    assert sorted(source_map.marks, key=str) == sorted(
        [(), ("kind",), ("run",), ("run", "kind"), ("run", "container"), ("run", "container", "image"),
         ("run", "container", "command"), ("run", "container", "command", 0),
         ("run", "container", "command", 1)],
        key=str,
    )  # fmt: skip


def test_camel_case_copy_does_not_follow_later_changes_of_the_original() -> None:
    original = SourceMap("a.yaml")
    _, parsed = parse_text("run_patch: {volume_mounts: [a]}\n", "a.yaml")
    original.marks.update(parsed.marks)
    copy = original.with_camel_case_paths()
    original.marks.clear()
    assert copy.locate("runPatch.volumeMounts[0]") == ("a.yaml", 1, 29)
    assert original.locate("run_patch") == ("a.yaml", None, None)


def test_duplicate_keys_are_still_found_when_the_file_is_loaded() -> None:
    with pytest.raises(SpecError, match=r"c\.yaml:4:3 run: duplicate key 'kind'"):
        load_text("kind: component\nrun:\n  kind: job\n  kind: service\n", "c.yaml")


def test_duplicate_keys_in_a_tagged_mapping_are_found_too() -> None:
    with pytest.raises(SpecError, match="duplicate key 'a'"):
        load_text("kind: component\ntags: !!set {a, a}\n", "c.yaml")


class _Timeout(SpecModel):
    timeout: Duration | None = None


def test_plain_annotations_validate_and_dump_as_before() -> None:
    model = _Timeout.model_validate({"timeout": "01:00:30"})
    assert model.timeout == timedelta(hours=1, seconds=30)
    assert model.dump() == {"timeout": 3630}
    assert _Timeout.model_validate({"timeout": 1.5}).model_dump() == {"timeout": 1.5}


@pytest.mark.parametrize("disabled_before", [False, True])
def test_importing_the_spec_leaves_the_garbage_collector_as_it_was(disabled_before: bool) -> None:
    code = (
        "import gc, json\n"
        f"{'gc.disable()' if disabled_before else ''}\n"
        "import mizzen.spec\n"
        "print(json.dumps(gc.isenabled()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert json.loads(done.stdout) is (not disabled_before)
