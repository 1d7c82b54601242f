"""Coercion of input/output values to every declared type, and the -P string parsing."""

from __future__ import annotations

from typing import Any

import pytest

from mizzen.compiler.io_types import IO_TYPES, IOValueError, coerce, parse_cli_value

ACCEPTED: list[tuple[str, Any, Any]] = [
    ("int", 3, 3),
    ("int", "42", 42),
    ("int", 2.0, 2),
    ("float", 1, 1.0),
    ("float", "1e-3", 0.001),
    ("bool", "true", True),
    ("bool", "No", False),
    ("bool", 1, True),
    ("str", "hello", "hello"),
    ("str", 1.5, "1.5"),
    ("str", {"a": 1}, '{"a":1}'),
    ("dict", '{"a": 1}', {"a": 1}),
    ("dict", "{a: 1}", {"a": 1}),
    ("list", "[1, 2]", [1, 2]),
    ("list", ["x"], ["x"]),
    ("any", [1, {"b": 2}], [1, {"b": 2}]),
    ("uri", "http://example.com/x", "http://example.com/x"),
    ("uri", "user:pass@host.com", "user:pass@host.com"),
    ("uri", {"user": "u", "password": "p", "host": "h.io"}, "u:p@h.io"),
    ("path", "/data/x", "/data/x"),
    ("image", "repo/img:1.0", "repo/img:1.0"),
    (
        "git",
        {"url": "https://github.com/a/b", "revision": "main"},
        {"url": "https://github.com/a/b", "revision": "main"},
    ),
    ("git", "https://github.com/a/b", {"url": "https://github.com/a/b"}),
    ("artifacts", {"files": ["a.txt"], "dirs": ["d"]}, {"files": ["a.txt"], "dirs": ["d"]}),
    (
        "dockerfile",
        {"image": "python:3.11", "run": ["pip install x"]},
        {"image": "python:3.11", "run": ["pip install x"]},
    ),
    ("file", {"content": "print(1)", "filename": "a.py"}, {"content": "print(1)", "filename": "a.py"}),
    ("tensorboard", {"uuids": ["abc"], "useNames": True}, {"uuids": ["abc"], "useNames": True}),
    ("s3", "s3://bucket/key", "s3://bucket/key"),
    ("s3", {"bucket": "b", "blob": "k"}, "s3://b/k"),
    ("gcs", "gs://bucket/key", "gs://bucket/key"),
    ("wasb", "wasbs://c@a.blob.core.windows.net/p", "wasbs://c@a.blob.core.windows.net/p"),
    ("date", "2024-02-29", "2024-02-29"),
    ("date", "2024-02-29T10:00:00", "2024-02-29"),
    ("datetime", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00+00:00"),
    ("datetime", "2024-02-29", "2024-02-29T00:00:00"),
    ("uuid", "8aac02e3-a62a-4f0a-aa25-7c59da5eab80", "8aac02e3a62a4f0aaa257c59da5eab80"),
    ("email", "a@b.co", "a@b.co"),
    ("metric", "0.5", 0.5),
    ("metadata", {"k": "v"}, {"k": "v"}),
    ("event", "run.succeeded", "run.succeeded"),
    ("event", {"name": "x"}, {"name": "x"}),
    ("auth", "me:secret", {"user": "me", "password": "secret"}),
    ("auth", {"user": "me", "password": "s"}, {"user": "me", "password": "s"}),
]

REJECTED: list[tuple[str, Any, str]] = [
    ("int", 1.5, "expected an int, got 1.5"),
    ("int", "abc", "expected an int, got 'abc'"),
    ("int", True, "expected an int, got true"),
    ("float", "fast", "expected a float, got 'fast'"),
    ("float", "nan", "expected a finite float"),
    ("bool", "maybe", "expected a bool"),
    ("str", object(), "expected a string"),
    ("dict", "[1]", "expected a mapping"),
    ("list", "1", "expected a list"),
    ("uri", "/path/to/tensorboard", "expected a URI"),
    ("path", 1, "expected a path"),
    ("image", "has space", "without spaces"),
    ("git", {"url": 1}, "'url' has the wrong type"),
    ("git", {"branch": "x"}, "unknown key 'branch'"),
    ("artifacts", "x", "expected an artifacts reference"),
    ("dockerfile", {"run": ["x"]}, "a dockerfile needs 'image'"),
    ("file", {"filename": "a"}, "a file needs 'content'"),
    ("tensorboard", {"uuids": "abc"}, "'uuids' has the wrong type"),
    ("s3", "b/k", "expected an S3 path"),
    ("gcs", "s3://b", "expected a GCS path"),
    ("wasb", "http://x", "expected an Azure blob path"),
    ("date", "yesterday", "expected a date"),
    ("datetime", "noon", "expected a datetime"),
    ("uuid", "x", "expected a UUID"),
    ("email", "nobody", "expected an email address"),
    ("metric", "x", "expected a float"),
    ("metadata", "x", "expected a mapping"),
    ("event", 3, "expected an event"),
    ("auth", "nobody", "expected credentials"),
]


def test_every_declared_type_is_covered() -> None:
    assert {t for t, _, _ in ACCEPTED} == IO_TYPES
    assert {t for t, _, _ in REJECTED} == IO_TYPES - {"any"}


@pytest.mark.parametrize(("io_type", "value", "expected"), ACCEPTED)
def test_accepted_values_are_normalised(io_type: str, value: Any, expected: Any) -> None:
    assert coerce(value, io_type) == expected


@pytest.mark.parametrize(("io_type", "value", "message"), REJECTED)
def test_rejected_values_say_what_was_expected(io_type: str, value: Any, message: str) -> None:
    with pytest.raises(IOValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        coerce(value, io_type)


def test_none_passes_through_and_unknown_type_is_an_error() -> None:
    assert coerce(None, "int") is None
    with pytest.raises(IOValueError, match="unknown type 'tensor'"):
        coerce(1, "tensor")


def test_list_inputs_coerce_every_item_and_name_the_bad_one() -> None:
    assert coerce([1, "2"], "int", is_list=True) == [1, 2]
    assert coerce("[0.1, 0.2]", "float", is_list=True) == [0.1, 0.2]
    with pytest.raises(IOValueError, match="item 1: expected an int"):
        coerce([1, "x"], "int", is_list=True)
    with pytest.raises(IOValueError, match="expected a list"):
        coerce(2, "int", is_list=True)


def test_cli_values_are_coerced_by_the_type_of_their_input() -> None:
    assert parse_cli_value("0.01", "float") == 0.01
    assert parse_cli_value("5", "int") == 5
    assert parse_cli_value("true", "bool") is True
    assert parse_cli_value("007", "str") == "007"
    assert parse_cli_value('{"a": 1}', "dict") == {"a": 1}
    assert parse_cli_value("[a, b]", "str", is_list=True) == ["a", "b"]
    assert parse_cli_value("s3://b/k", "s3") == "s3://b/k"


def test_untyped_cli_values_get_yaml_scalars() -> None:
    assert parse_cli_value("3", None) == 3
    assert parse_cli_value("0.5", "any") == 0.5
    assert parse_cli_value("hello world", None) == "hello world"
    assert parse_cli_value('{"a": [1]}', None) == {"a": [1]}
    assert parse_cli_value("", None) == ""


def test_cli_value_of_the_wrong_type_is_rejected() -> None:
    with pytest.raises(IOValueError, match="expected an int, got 'ten'"):
        parse_cli_value("ten", "int")
