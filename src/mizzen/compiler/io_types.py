"""Values of inputs/outputs: coercion to the declared type, and the declared validation rules.

Works on plain values so that the CLI (``-P name=value`` strings), the SDK (Python values) and the
scheduler (upstream outputs) share one set of rules. Every value is normalised to a JSON-friendly
form (dates as ISO strings, URIs as strings, structured types as dicts) because it ends up in a Plan
that is stored and sent over HTTP.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, get_args

from mizzen.spec.base import describe  # one wording for values in parse and compile errors
from mizzen.spec.io import IOType

IO_TYPES = frozenset(get_args(IOType))


class IOValueError(ValueError):
    """A value does not fit its declared type or rules; the message is for the user."""


def _fail(expected: str, value: Any) -> IOValueError:
    return IOValueError(f"expected {expected}, got {describe(value)}")


# -- scalar types --------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "on", "1", "t"}
_FALSE = {"false", "no", "n", "off", "0", "f"}


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _fail("an int", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                raise _fail("an int", value) from None
            if number.is_integer():
                return int(number)
    raise _fail("an int", value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise _fail("a float", value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _fail("a float", value) from None
    else:
        raise _fail("a float", value)
    if not math.isfinite(number):
        raise _fail("a finite float", value)
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _fail("a bool (true/false)", value)


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    raise _fail("a string", value)


def _parse_structured(value: Any) -> Any:
    """A dict/list given as text (JSON, or YAML flow style) is parsed; other values pass through."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return value
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return value


def _to_dict(value: Any) -> dict[str, Any]:
    parsed = _parse_structured(value)
    if isinstance(parsed, Mapping):
        return dict(parsed)
    raise _fail("a mapping", value)


def _to_list(value: Any) -> list[Any]:
    parsed = _parse_structured(value)
    if isinstance(parsed, list | tuple):
        return list(parsed)
    raise _fail("a list", value)


def _to_any(value: Any) -> Any:
    return value


def _text(expected: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(expected, value)
    return value.strip()


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s]+$")
_USER_HOST = re.compile(r"^[^\s:@/]+:[^\s@]*@[^\s@/]+(:\d+)?(/\S*)?$")


def _to_uri(value: Any) -> str:
    if isinstance(value, Mapping) and "host" in value:
        user = value.get("user") or ""
        password = value.get("password") or ""
        return f"{user}:{password}@{value['host']}"
    text = _text("a URI (scheme://host/path or user:password@host)", value)
    if _URI.match(text) or _USER_HOST.match(text):
        return text
    raise _fail("a URI (scheme://host/path or user:password@host)", value)


def _to_path(value: Any) -> str:
    return _text("a path (a string)", value)


_IMAGE = re.compile(r"^[^\s]+$")


def _to_image(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        value = value["name"]  # the v1.0 form {name: ..., connection: ...}
    text = _text("a container image name", value)
    if not _IMAGE.match(text):
        raise _fail("a container image name without spaces", value)
    return text


def _store_path(schemes: tuple[str, ...], label: str) -> Callable[[Any], str]:
    expected = f"{label} ({' or '.join(s + '://...' for s in schemes)})"

    def convert(value: Any) -> str:
        if isinstance(value, Mapping) and "bucket" in value:
            bucket = str(value["bucket"]).strip("/")
            blob = str(value.get("blob") or "").lstrip("/")
            return f"{schemes[0]}://{bucket}/{blob}" if blob else f"{schemes[0]}://{bucket}"
        text = _text(expected, value)
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in schemes or not rest.strip("/"):
            raise _fail(expected, value)
        return text

    return convert


def _to_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = _text("a date (YYYY-MM-DD)", value)
    try:
        if len(text) > 10 and text[10] in "T ":
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise _fail("a date (YYYY-MM-DD)", value) from None


def _to_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    text = _text("a datetime (ISO 8601)", value)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise _fail("a datetime (ISO 8601, e.g. 2024-01-31T12:00:00)", value) from None


def _to_uuid(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return value.hex
    text = _text("a UUID", value)
    try:
        return uuid.UUID(text).hex
    except ValueError:
        raise _fail("a UUID", value) from None


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _to_email(value: Any) -> str:
    text = _text("an email address", value)
    if not _EMAIL.match(text):
        raise _fail("an email address", value)
    return text


def _to_metadata(value: Any) -> dict[str, Any]:
    return _to_dict(value)


def _to_event(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    return _text("an event (a string or a mapping)", value)


def _to_auth(value: Any) -> dict[str, str]:
    """``user:password`` or ``{user: ..., password: ...}``."""
    if isinstance(value, Mapping) and isinstance(value.get("user"), str):
        return {"user": value["user"], "password": str(value.get("password") or "")}
    if isinstance(value, str) and ":" in value:
        user, _, password = value.partition(":")
        if user:
            return {"user": user, "password": password}
    raise _fail("credentials (user:password or a mapping with user and password)", value)


# -- structured types (the init-able ones) --------------------------------------------------------


def _structured(
    label: str,
    allowed: dict[str, Callable[[Any], bool]],
    required: tuple[str, ...] = (),
    from_text: str | None = None,
) -> Callable[[Any], dict[str, Any]]:
    """A converter for a mapping with known keys (camelCase as Polyaxon writes them)."""

    def convert(value: Any) -> dict[str, Any]:
        if isinstance(value, str) and from_text and not value.lstrip().startswith("{"):
            value = {from_text: _text(label, value)}
        parsed = _parse_structured(value)
        if not isinstance(parsed, Mapping):
            raise _fail(f"{label} (a mapping)", value)
        unknown = sorted(set(parsed) - set(allowed))
        if unknown:
            raise IOValueError(
                f"unknown key {unknown[0]!r} for {label}; expected one of: {', '.join(sorted(allowed))}"
            )
        for key in required:
            if parsed.get(key) in (None, ""):
                raise IOValueError(f"{label} needs {key!r}")
        for key, item in parsed.items():
            if item is not None and not allowed[key](item):
                raise IOValueError(f"{label}: {key!r} has the wrong type ({describe(item)})")
        return {k: v for k, v in parsed.items() if v is not None}

    return convert


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, str) for i in v)


def _is_path_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, str) or _is_str_list(i) for i in v)


def _is_str_map(v: Any) -> bool:
    return isinstance(v, Mapping)


def _is_int_or_str(v: Any) -> bool:
    return _is_int(v) or isinstance(v, str)


_to_git = _structured(
    "a git reference", {"url": _is_str, "revision": _is_str, "flags": _is_str_list}, from_text="url"
)
_to_artifacts = _structured(
    "an artifacts reference", {"files": _is_path_list, "dirs": _is_path_list, "workers": _is_int}
)
_to_dockerfile = _structured(
    "a dockerfile",
    {
        "image": _is_str, "env": _is_str_map, "path": _is_str_list, "copy": _is_path_list,
        "postRunCopy": _is_path_list, "run": _is_str_list, "langEnv": _is_str, "uid": _is_int,
        "gid": _is_int, "username": _is_str, "filename": _is_str, "workdir": _is_str,
        "workdirPath": _is_str, "shell": _is_str,
    },
    required=("image",),
)  # fmt: skip
_to_file = _structured(
    "a file",
    {"content": _is_str, "filename": _is_str, "kind": _is_str, "chmod": _is_int_or_str},
    required=("content",),
)
_to_tensorboard = _structured(
    "a tensorboard reference",
    {"uuids": _is_str_list, "useNames": _is_bool, "pathPrefix": _is_str, "plugins": _is_str_list},
)

_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "str": _to_str,
    "dict": _to_dict,
    "list": _to_list,
    "any": _to_any,
    "uri": _to_uri,
    "path": _to_path,
    "image": _to_image,
    "git": _to_git,
    "artifacts": _to_artifacts,
    "dockerfile": _to_dockerfile,
    "file": _to_file,
    "tensorboard": _to_tensorboard,
    "s3": _store_path(("s3",), "an S3 path"),
    "gcs": _store_path(("gs", "gcs"), "a GCS path"),
    "wasb": _store_path(("wasb", "wasbs", "az", "abfs", "abfss"), "an Azure blob path"),
    "date": _to_date,
    "datetime": _to_datetime,
    "uuid": _to_uuid,
    "email": _to_email,
    "metric": _to_float,
    "metadata": _to_metadata,
    "event": _to_event,
    "auth": _to_auth,
}


def coerce(value: Any, io_type: str | None, is_list: bool = False) -> Any:
    """Convert a value to its declared type (``None`` type: anything goes). Raises IOValueError."""
    if value is None:
        return None
    converter = _CONVERTERS.get(io_type or "any")
    if converter is None:
        raise IOValueError(f"unknown type {io_type!r}; expected one of: {', '.join(sorted(IO_TYPES))}")
    if is_list:
        items = _to_list(value) if not isinstance(value, list) else value
        converted = []
        for index, item in enumerate(items):
            try:
                converted.append(converter(item))
            except IOValueError as exc:
                raise IOValueError(f"item {index}: {exc}") from None
        return converted
    return converter(value)


def parse_cli_value(raw: str, io_type: str | None, is_list: bool = False) -> Any:
    """A ``-P name=value`` string, coerced by the type of the input it targets.

    Untyped params (``any`` or no declaration) get YAML scalar/flow parsing so that ``-P n=3`` is a
    number and ``-P d={"a": 1}`` a mapping; ``str`` keeps the text exactly as typed.
    """
    if io_type == "str" and not is_list:
        return raw
    if io_type in (None, "any") and not is_list:
        return _parse_structured(raw) if raw.strip() else raw
    return coerce(raw, io_type, is_list)
