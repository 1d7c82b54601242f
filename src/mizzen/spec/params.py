"""``params``: values given to a component's inputs by an operation (long and short form)."""

import difflib
from typing import Any

from pydantic import model_validator

from mizzen.spec.base import Bool, SpecModel, Str

PARAM_KEYS = (
    "value",
    "ref",
    "contextOnly",
    "context_only",
    "connection",
    "toInit",
    "to_init",
    "toEnv",
    "to_env",
)


def is_long_form(data: Any) -> bool:
    """A mapping that spells a param (``{value: ..., ref: ...}``) rather than a dict value."""
    if not isinstance(data, dict) or not data:
        return False
    keys = [key for key in data if isinstance(key, str)]
    if any(key in PARAM_KEYS for key in keys):
        return True
    # ``{valeu: 1}`` is a typo of the long form, not a dict value: report it as such.
    return any(difflib.get_close_matches(key, PARAM_KEYS, n=1, cutoff=0.8) for key in keys)


class ParamSpec(SpecModel):
    """``{value: 1}`` or the short form ``1``; ``ref`` points at another run or an upstream op."""

    value: Any = None
    ref: Str | None = None
    context_only: Bool | None = None
    connection: Str | None = None
    to_init: Bool | None = None
    to_env: Str | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, ParamSpec) or is_long_form(data):
            return data
        return {"value": data}
