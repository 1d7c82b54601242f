"""``inputs`` / ``outputs``: the typed interface of a component."""

from typing import Any, Literal

from mizzen.spec.base import Bool, SpecModel, Str, TplBool, TplInt, TplNumber

IOType = Literal[
    "int", "float", "bool", "str", "dict", "list", "any", "uri", "path", "image", "git",
    "artifacts", "dockerfile", "file", "tensorboard", "s3", "gcs", "wasb", "date", "datetime",
    "uuid", "email", "metric", "metadata", "event", "auth",
]  # fmt: skip


class ValidationSpec(SpecModel):
    """Rules a value must satisfy (checked by the compiler)."""

    delay: TplBool | None = None
    gt: TplNumber | None = None
    ge: TplNumber | None = None
    lt: TplNumber | None = None
    le: TplNumber | None = None
    multiple_of: TplNumber | None = None
    min_digits: TplInt | None = None
    max_digits: TplInt | None = None
    decimal_places: TplInt | None = None
    regex: Str | None = None
    min_length: TplInt | None = None
    max_length: TplInt | None = None
    contains: Any = None
    excludes: Any = None
    options: Any = None
    min_items: TplInt | None = None
    max_items: TplInt | None = None
    keys: list[Str] | None = None
    contains_keys: list[Str] | None = None
    excludes_keys: list[Str] | None = None


class IOSpec(SpecModel):
    """One input or output."""

    name: Str
    description: Str | None = None
    type: IOType | None = None
    value: Any = None
    is_optional: Bool | None = None
    is_list: Bool | None = None
    is_flag: Bool | None = None
    arg_format: Str | None = None
    options: list[Any] | None = None
    validation: ValidationSpec | None = None
    delay_validation: Bool | None = None
    connection: Str | None = None
    to_init: Bool | None = None
    to_env: Str | None = None
