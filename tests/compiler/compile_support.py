"""Shared by the compiler tests: the error that compiling a polyaxonfile must raise."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from mizzen.compiler.compile import compile_files
from mizzen.errors import CompileError, SpecError


def compile_error(
    path: Path,
    params: Mapping[str, str] | None = None,
    *,
    expected: type[SpecError] = CompileError,
    **kwargs: Any,
) -> SpecError:
    """``compile_files([path], params, **kwargs)`` must raise ``expected``; the error raised."""
    with pytest.raises(expected) as raised:
        compile_files([path], params or {}, **kwargs)
    return raised.value
