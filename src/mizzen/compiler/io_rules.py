"""The ``options`` and ``validation`` rules of an input/output, checked on an already coerced value.

Numeric, string and generic rules apply to the value, item-wise to lists and value-wise to dicts
(as Polyaxon documents them); ``minItems``/``maxItems`` and the key rules apply to the whole value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from mizzen.compiler.io_types import IOValueError, describe
from mizzen.spec.io import ValidationSpec

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

RULE_NAMES = frozenset(ValidationSpec.model_fields)


def rules_of(validation: Any) -> dict[str, Any]:
    """Validation rules as a snake_case dict, from a spec model, a mapping or None."""
    if validation is None:
        return {}
    if hasattr(validation, "model_dump"):
        raw = validation.model_dump(exclude_none=True)
    elif isinstance(validation, Mapping):
        raw = dict(validation)
    else:
        raise IOValueError(f"validation rules must be a mapping, got {describe(validation)}")
    rules = {_CAMEL.sub("_", k).lower(): v for k, v in raw.items() if v is not None}
    unknown = sorted(set(rules) - RULE_NAMES)
    if unknown:
        raise IOValueError(f"unknown validation rule {unknown[0]!r}")
    return rules


@lru_cache(maxsize=256)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _digits(number: float | int) -> tuple[int, int]:
    """(total significant digits, decimal places) of a number, as Decimal sees it."""
    try:
        exponent = Decimal(str(number)).normalize().as_tuple()
    except InvalidOperation:
        return 0, 0
    digits = len(exponent.digits)
    places = -exponent.exponent if isinstance(exponent.exponent, int) and exponent.exponent < 0 else 0
    return max(digits, places), places


def _check_item(value: Any, rules: Mapping[str, Any]) -> None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number:
        for rule, test, words in (
            ("gt", lambda v, b: v > b, "greater than"),
            ("ge", lambda v, b: v >= b, "greater than or equal to"),
            ("lt", lambda v, b: v < b, "less than"),
            ("le", lambda v, b: v <= b, "less than or equal to"),
        ):
            if rule in rules and not test(value, rules[rule]):
                raise IOValueError(f"value {describe(value)} must be {words} {rules[rule]}")
        multiple = rules.get("multiple_of")
        if multiple and Decimal(str(value)) % Decimal(str(multiple)) != 0:
            raise IOValueError(f"value {describe(value)} must be a multiple of {multiple}")
        digits, places = _digits(value)
        if "min_digits" in rules and digits < rules["min_digits"]:
            raise IOValueError(f"value {describe(value)} must have at least {rules['min_digits']} digits")
        if "max_digits" in rules and digits > rules["max_digits"]:
            raise IOValueError(f"value {describe(value)} must have at most {rules['max_digits']} digits")
        if "decimal_places" in rules and places > rules["decimal_places"]:
            raise IOValueError(
                f"value {describe(value)} must have at most {rules['decimal_places']} decimal places"
            )
    if isinstance(value, str):
        if "regex" in rules and not _pattern(rules["regex"]).search(value):
            raise IOValueError(f"value {describe(value)} does not match {rules['regex']!r}")
        if "min_length" in rules and len(value) < rules["min_length"]:
            raise IOValueError(f"value {describe(value)} must have at least {rules['min_length']} characters")
        if "max_length" in rules and len(value) > rules["max_length"]:
            raise IOValueError(f"value {describe(value)} must have at most {rules['max_length']} characters")
    if "options" in rules and value not in rules["options"]:
        raise IOValueError(f"value {describe(value)} must be one of {list(rules['options'])}")


def _contains(container: Any, item: Any) -> bool:
    try:
        return item in container
    except TypeError:
        return False


def check_rules(value: Any, rules: Mapping[str, Any]) -> None:
    """Raise IOValueError when ``value`` breaks one of ``rules`` (snake_case, see ``rules_of``)."""
    if value is None or not rules:
        return
    if isinstance(value, list):
        if "min_items" in rules and len(value) < rules["min_items"]:
            raise IOValueError(f"expected at least {rules['min_items']} items, got {len(value)}")
        if "max_items" in rules and len(value) > rules["max_items"]:
            raise IOValueError(f"expected at most {rules['max_items']} items, got {len(value)}")
        items: Iterable[Any] = value
    elif isinstance(value, Mapping):
        keys = set(value)
        for rule in ("keys", "contains_keys"):
            missing = [k for k in rules.get(rule) or [] if k not in keys]
            if missing:
                raise IOValueError(f"missing key {missing[0]!r}")
        if "keys" in rules and keys - set(rules["keys"]):
            extra = sorted(keys - set(rules["keys"]))[0]
            raise IOValueError(f"unexpected key {extra!r}; allowed keys: {list(rules['keys'])}")
        present = [k for k in rules.get("excludes_keys") or [] if k in keys]
        if present:
            raise IOValueError(f"key {present[0]!r} is not allowed")
        items = value.values()
    else:
        items = (value,)
    for wanted in rules.get("contains") or []:
        if not _contains(value, wanted):
            raise IOValueError(f"value {describe(value)} must contain {describe(wanted)}")
    for unwanted in rules.get("excludes") or []:
        if _contains(value, unwanted):
            raise IOValueError(f"value {describe(value)} must not contain {describe(unwanted)}")
    for item in items:
        _check_item(item, rules)


def check_options(value: Any, options: list[Any] | None, is_list: bool = False) -> None:
    """The ``options`` field of an input: the value (each item of a list input) must be one of them."""
    if not options or value is None:
        return
    for item in value if is_list and isinstance(value, list) else (value,):
        if item not in options:
            raise IOValueError(f"value {describe(item)} must be one of {list(options)}")
