"""Properties: valid specs round-trip; any mutation of a valid file fails only with a SpecError."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_corpus import REJECTED_ON_PURPOSE, corpus_file, corpus_rows

from mizzen.errors import SpecError
from mizzen.spec import apply_presets, load_dict, load_file, load_text

VALID_FILES = [
    corpus_file(row)
    for row in corpus_rows()
    if row["ref_lint"] == "ok" and row["path"] not in REJECTED_ON_PURPOSE
]
VALID_DATA = [load_file(path).data for path in VALID_FILES]
VALID_TEXTS = [path.read_text(encoding="utf-8") for path in VALID_FILES]

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(data: dict[str, Any]) -> None:
    first = load_dict(data)
    dumped = first.spec.dump()
    second = load_dict(dumped)
    assert second.spec == first.spec
    assert second.spec.dump() == dumped


@pytest.mark.parametrize("path", VALID_FILES, ids=[str(p.name) for p in VALID_FILES])
def test_corpus_files_round_trip(path: Any) -> None:
    roundtrip(load_file(path).data)


# -- generated valid specs --------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 -_./", min_size=1, max_size=12)
scalars = st.one_of(
    st.integers(-5, 1000), st.floats(-10, 10, allow_nan=False), st.booleans(), words, st.none()
)
templates = names.map(lambda name: "{{ " + name + " }}")

containers = st.fixed_dictionaries(
    {"image": words},
    optional={
        "command": st.one_of(words, st.lists(words, max_size=3)),
        "args": st.lists(words, max_size=3),
        "workingDir": words,
        "env": st.lists(st.fixed_dictionaries({"name": names, "value": words}), max_size=2),
        "resources": st.fixed_dictionaries(
            {},
            optional={
                "limits": st.dictionaries(
                    st.sampled_from(["cpu", "memory", "nvidia.com/gpu"]), st.one_of(st.integers(1, 8), words)
                )
            },
        ),
        "imagePullPolicy": st.sampled_from(["Always", "IfNotPresent", "Never"]),
    },
)
environments = st.fixed_dictionaries(
    {},
    optional={
        "nodeSelector": st.dictionaries(names, words, max_size=2),
        "labels": st.dictionaries(names, words, max_size=2),
        "serviceAccountName": words,
        "restartPolicy": st.sampled_from(["Always", "OnFailure", "Never"]),
        "tolerations": st.lists(
            st.fixed_dictionaries({"key": names, "operator": st.just("Exists")}), max_size=2
        ),
    },
)
inits = st.one_of(
    st.fixed_dictionaries({"git": st.fixed_dictionaries({"url": words}, optional={"revision": words})}),
    st.fixed_dictionaries({"file": st.fixed_dictionaries({"content": words}, optional={"filename": words})}),
    st.fixed_dictionaries({"paths": st.lists(words, max_size=2)}),
)
pod = {
    "container": containers,
    "environment": environments,
    "init": st.lists(inits, max_size=2),
    "connections": st.lists(names, max_size=2),
}
jobs = st.fixed_dictionaries({"kind": st.just("job")}, optional=pod)
services = st.fixed_dictionaries(
    {"kind": st.just("service")},
    optional={
        **pod,
        "ports": st.lists(st.integers(1, 65535), max_size=2),
        "replicas": st.one_of(st.integers(1, 4), templates),
    },
)
replicas = st.fixed_dictionaries({}, optional={"replicas": st.integers(1, 4), "container": containers})
tfjobs = st.fixed_dictionaries(
    {"kind": st.just("tfjob")}, optional={"chief": replicas, "worker": replicas, "ps": replicas}
)
runs = st.one_of(jobs, services, tfjobs)
io_types = st.sampled_from(["int", "float", "bool", "str", "dict", "list", "path", "uri", "image"])
ios = st.fixed_dictionaries(
    {"name": names},
    optional={
        "type": io_types,
        "isOptional": st.booleans(),
        "value": scalars,
        "description": words,
        "isFlag": st.booleans(),
    },
)
components = st.fixed_dictionaries(
    {"kind": st.just("component"), "run": runs},
    optional={
        "version": st.sampled_from([1, 1.0, 1.1]),
        "name": names,
        "tags": st.lists(names, max_size=3),
        "inputs": st.lists(ios, max_size=3),
        "outputs": st.lists(ios, max_size=2),
        "termination": st.fixed_dictionaries(
            {}, optional={"maxRetries": st.integers(0, 5), "timeout": st.integers(1, 99)}
        ),
        "plugins": st.fixed_dictionaries({}, optional={"docker": st.booleans(), "logLevel": words}),
    },
)
distributions = st.one_of(
    st.fixed_dictionaries({"kind": st.just("choice"), "value": st.lists(scalars, min_size=1, max_size=3)}),
    st.fixed_dictionaries(
        {
            "kind": st.just("range"),
            "value": st.tuples(st.integers(0, 5), st.integers(6, 20), st.integers(1, 3)).map(list),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("linspace"),
            "value": st.fixed_dictionaries(
                {"start": st.floats(0, 1), "stop": st.floats(1, 2), "num": st.integers(1, 5)}
            ),
        }
    ),
)
matrices = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("grid"), "params": st.dictionaries(names, distributions, min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("random"),
            "numRuns": st.integers(1, 10),
            "params": st.dictionaries(names, distributions, min_size=1, max_size=3),
        }
    ),
    st.fixed_dictionaries(
        {
            "kind": st.just("mapping"),
            "values": st.lists(st.dictionaries(names, scalars, max_size=2), min_size=1, max_size=3),
        }
    ),
)
operations = st.fixed_dictionaries(
    {"kind": st.just("operation")},
    optional={
        "version": st.just(1.1),
        "hubRef": names,
        "component": components.map(lambda c: {k: v for k, v in c.items() if k != "kind"}),
        "params": st.dictionaries(
            names, st.one_of(scalars, st.fixed_dictionaries({"value": scalars})), max_size=3
        ),
        "matrix": matrices,
        "schedule": st.fixed_dictionaries({"kind": st.just("cron"), "cron": st.just("0 * * * *")}),
        "runPatch": st.fixed_dictionaries(
            {}, optional={"container": containers, "environment": environments}
        ),
        "patchStrategy": st.sampled_from(["replace", "isnull", "post_merge", "pre_merge"]),
        "trigger": st.sampled_from(["all_succeeded", "one_done"]),
        "dependencies": st.lists(names, max_size=2),
    },
)


@FAST
@given(st.one_of(components, operations))
def test_generated_specs_round_trip(data: dict[str, Any]) -> None:
    roundtrip(data)


# -- mutations of valid files -------------------------------------------------------------------------

junk = st.recursive(
    scalars | st.just("{{ x }}"),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.one_of(words, st.integers()), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(value) for value in node]
    return node


def _loads_or_spec_error(load: Any, *args: Any) -> None:
    try:
        load(*args)
    except SpecError as error:
        assert str(error)


@FAST
@given(st.data())
def test_mutated_files_fail_only_with_spec_error(data: st.DataObject) -> None:
    document = _copy(data.draw(st.sampled_from(VALID_DATA)))
    paths = _paths(document)
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    mutation = data.draw(st.sampled_from(["delete", "rename", "retype"]))
    if mutation == "delete":
        del parent[key]
    elif mutation == "rename" and isinstance(parent, dict):
        parent[data.draw(words)] = parent.pop(key)
    else:
        parent[key] = data.draw(junk)
    _loads_or_spec_error(load_dict, document)


@FAST
@given(st.data())
def test_truncated_or_garbled_text_fails_only_with_spec_error(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(VALID_TEXTS))
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(st.text(alphabet=":-[]{}'\"\t\n #&*!|>%@`,?", max_size=4))
    _loads_or_spec_error(load_text, text[:cut] + insert + text[cut + len(insert) :], "mutant.yaml")
    _loads_or_spec_error(load_text, text[:cut], "mutant.json", "json")


presets = st.fixed_dictionaries(
    {},
    optional={
        "patchStrategy": st.sampled_from(["replace", "isnull", "post_merge", "pre_merge"]),
        "runPatch": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"container": containers, "environment": environments, "kind": st.just("job")}
            ),
            st.dictionaries(
                st.sampled_from(["container", "init", "replicas", "ports", "environment", "worker"]),
                junk,
                max_size=2,
            ),
        ),
        "termination": st.one_of(st.fixed_dictionaries({}, optional={"ttl": st.integers(0, 9)}), junk),
        "params": st.dictionaries(names, scalars, max_size=2),
        "tags": st.one_of(st.lists(names, max_size=2), junk),
    },
)


@FAST
@given(st.sampled_from(VALID_DATA), st.lists(presets, min_size=1, max_size=3))
def test_presets_over_valid_files_fail_only_with_spec_error(
    main: dict[str, Any], layers: list[dict[str, Any]]
) -> None:
    try:
        loaded_presets = [load_dict(layer, source=f"preset{i}.yaml") for i, layer in enumerate(layers)]
    except SpecError:
        return
    _loads_or_spec_error(apply_presets, load_dict(main), loaded_presets)
