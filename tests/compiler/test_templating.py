"""The sandboxed template engine: fast path and Jinja path agree; deferral; errors."""

from __future__ import annotations

from typing import Any

import pytest

from mizzen.compiler.templating import (
    Deferred,
    DeferredValue,
    TemplateError,
    evaluate,
    ops_references,
    render,
    render_structure,
)


class Box:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def method(self) -> str:
        return "called"


CONTEXT: dict[str, Any] = {
    "lr": 0.01,
    "name": "run",
    "nothing": None,
    "config": {"a": 1, "nested": {"b": [10, 20]}},
    "items": [1, 2],
    "globals": Box(run_outputs_path="/out", uuid="abc"),
    "connections": {"data": Box(schema_={"bucket": "b"}, url="s3://b")},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("--lr={{ lr }}", "--lr=0.01"),
        ("{{globals.run_outputs_path}}/model", "/out/model"),
        ("{{ config.nested.b[1] }}", "20"),
        ("{{ config['nested'][\"b\"][0] }}", "10"),
        ("{{ config }}", '{"a": 1, "nested": {"b": [10, 20]}}'),
        ("[{{ nothing }}]", "[]"),
        ("{{ items }}", "[1, 2]"),
        ("{{ connections['data'].url }}", "s3://b"),
    ],
)
def test_simple_lookups_render_like_jinja(text: str, expected: str) -> None:
    assert render(text, CONTEXT) == expected
    # the same text forced through Jinja (a no-op statement disables the fast path) agrees
    assert render("{% if true %}{% endif %}" + text, CONTEXT) == expected


def test_expressions_and_filters_go_through_jinja() -> None:
    assert render("{{ lr * 10 }}", CONTEXT) == "0.1"
    assert render("{{ name | upper }}-{% for i in items %}{{ i }}{% endfor %}", CONTEXT) == "RUN-12"
    assert render("{{ connections[name + ''] if false else 'x' }}", CONTEXT) == "x"


def test_undefined_names_and_attributes_are_errors() -> None:
    with pytest.raises(TemplateError, match="'lerning_rate' is undefined"):
        render("--lr={{ lerning_rate }}", CONTEXT)
    with pytest.raises(TemplateError, match="'lerning_rate' is undefined"):
        render("{{ lerning_rate + 1 }}", CONTEXT)
    with pytest.raises(TemplateError, match="has no attribute 'missing'"):
        render("{{ globals.missing }}", CONTEXT)


def test_the_sandbox_refuses_private_attributes_and_methods() -> None:
    with pytest.raises(TemplateError, match="not allowed"):
        render("{{ globals.__class__ }}", CONTEXT)
    with pytest.raises(TemplateError):
        render("{{ globals.__class__.__mro__ }}{% if 1 %}{% endif %}", CONTEXT)
    with pytest.raises(TemplateError):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", CONTEXT)
    with pytest.raises(TemplateError, match="no attribute 'method'"):
        render("{{ globals.method }}", {"globals": Box()})


def test_syntax_errors_are_reported() -> None:
    with pytest.raises(TemplateError, match="template syntax error"):
        render("{{ lr + }}", CONTEXT)
    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        render("{{ 1 / 0 }}", CONTEXT)


def test_deferred_values_raise_deferred_in_both_engines() -> None:
    context = {**CONTEXT, "upstream": DeferredValue("ops.train")}
    with pytest.raises(Deferred) as fast:
        render("{{ upstream }}", context)
    assert fast.value.ref == "ops.train"
    with pytest.raises(Deferred):
        render("{{ upstream.outputs.loss }}", context)
    with pytest.raises(Deferred):
        render("{{ upstream > 1 }}", context)
    with pytest.raises(Deferred):
        evaluate("{{ upstream > lr }}", context)


def test_evaluate_returns_native_values_for_a_single_expression() -> None:
    assert evaluate("{{ lr }}", CONTEXT) == 0.01
    assert evaluate(" {{ config.nested }} ", CONTEXT) == {"b": [10, 20]}
    assert evaluate("{{ lr > 0.001 }}", CONTEXT) is True
    assert evaluate("lr is {{ lr }}", CONTEXT) == "lr is 0.01"


def test_render_structure_keeps_deferred_strings_and_reports_them() -> None:
    context = {**CONTEXT, "ops": DeferredValue("ops")}
    deferred: list[tuple[str, str]] = []
    value = {"args": ["--lr={{ lr }}", "--loss={{ ops.train.outputs.loss }}"], "image": "x", "n": 3}
    result = render_structure(value, context, lambda path, ref: deferred.append((path, ref)), "container")
    assert result == {"args": ["--lr=0.01", "--loss={{ ops.train.outputs.loss }}"], "image": "x", "n": 3}
    assert deferred == [("container.args[1]", "ops")]
    untouched = {"a": ["x"], "b": 1}
    assert render_structure(untouched, context) is untouched


def test_render_structure_reports_errors_with_their_path() -> None:
    errors: list[str] = []
    render_structure(
        {"a": ["{{ nope }}"]}, CONTEXT, on_error=lambda path, err: errors.append(f"{path}: {err}")
    )
    assert errors == ["a[0]: 'nope' is undefined"]


def test_ops_references_are_found_in_templates_only() -> None:
    assert ops_references("{{ ops.train.outputs.loss }} and {{ ops['eval'].outputs.acc }}") == {
        "train",
        "eval",
    }
    assert ops_references("ops.train outside a template") == set()
    assert ops_references("{% if ops.prep.status %}{% endif %}") == {"prep"}
