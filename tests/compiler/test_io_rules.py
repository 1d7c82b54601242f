"""Validation rules and options of inputs, applied to coerced values."""

from __future__ import annotations

from typing import Any

import pytest

from mizzen.compiler.io_rules import check_options, check_rules, rules_of
from mizzen.compiler.io_types import IOValueError


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        (0.2, {"gt": 0.1, "lt": 0.5}),
        (0.5, {"ge": 0.5, "le": 0.5}),
        (9, {"multiple_of": 3}),
        (12.5, {"max_digits": 3, "decimal_places": 1, "min_digits": 2}),
        ("s3://bucket/key", {"regex": "^s3://(?P<bucket>[a-z0-9-.]{3,63})/(?P<key>.+)$"}),
        ("abc", {"min_length": 3, "max_length": 3}),
        ([1, 2, 3], {"min_items": 2, "max_items": 3, "contains": [2], "excludes": [4], "gt": 0}),
        ({"a": 1, "b": 2}, {"keys": ["a", "b"], "excludes_keys": ["c"], "lt": 3}),
        ({"a": 1, "z": 2}, {"contains_keys": ["a"]}),
        ("relu", {"options": ["relu", "tanh"]}),
        (None, {"gt": 1}),
    ],
)
def test_values_within_the_rules_pass(value: Any, rules: dict[str, Any]) -> None:
    check_rules(value, rules)


@pytest.mark.parametrize(
    ("value", "rules", "message"),
    [
        (0.7, {"lt": 0.5}, "must be less than 0.5"),
        (0.1, {"gt": 0.1}, "must be greater than 0.1"),
        (0.4, {"ge": 0.5}, "greater than or equal to 0.5"),
        (10, {"multiple_of": 3}, "multiple of 3"),
        (1.2345, {"decimal_places": 2}, "at most 2 decimal places"),
        (123456, {"max_digits": 3}, "at most 3 digits"),
        ("gs://x", {"regex": "^s3://"}, "does not match"),
        ("abc", {"max_length": 2}, "at most 2 characters"),
        ("a", {"min_length": 2}, "at least 2 characters"),
        ([1], {"min_items": 2}, "at least 2 items"),
        ([1, 2, 3], {"max_items": 2}, "at most 2 items"),
        ([1, 2], {"contains": [3]}, "must contain 3"),
        ([1, 2], {"excludes": [2]}, "must not contain 2"),
        ([1, 9], {"lt": 5}, "9 must be less than 5"),
        ({"a": 1}, {"keys": ["a", "b"]}, "missing key 'b'"),
        ({"a": 1, "c": 2}, {"keys": ["a"]}, "unexpected key 'c'"),
        ({"c": 2}, {"excludes_keys": ["c"]}, "key 'c' is not allowed"),
        ("sigmoid", {"options": ["relu"]}, "must be one of"),
    ],
)
def test_values_breaking_a_rule_are_rejected(value: Any, rules: dict[str, Any], message: str) -> None:
    with pytest.raises(IOValueError, match=message):
        check_rules(value, rules)


def test_rules_are_read_from_camel_case_mappings() -> None:
    assert rules_of({"minLength": 2, "multipleOf": 3, "delay": True}) == {
        "min_length": 2,
        "multiple_of": 3,
        "delay": True,
    }
    assert rules_of(None) == {}
    with pytest.raises(IOValueError, match="unknown validation rule 'between'"):
        rules_of({"between": [1, 2]})


def test_options_apply_to_the_value_or_to_each_item_of_a_list() -> None:
    check_options("a", ["a", "b"])
    check_options(["a", "b"], ["a", "b"], is_list=True)
    with pytest.raises(IOValueError, match="'c' must be one of"):
        check_options(["a", "c"], ["a", "b"], is_list=True)
    with pytest.raises(IOValueError, match="3 must be one of"):
        check_options(3, [1, 2])
