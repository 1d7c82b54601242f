"""No dead functions in the package: each module-level function is used by the package itself.

A function that only its tests call (or nobody) is code to keep working for no user. Decorated
functions are left out: a decorator (a CLI command, a route, an event listener) is their use.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mizzen"


def unused_functions(package: Path) -> list[str]:
    """``path:line name`` of each undecorated module-level function whose name appears nowhere in
    ``package`` but in its own ``def`` (a name mention counts: calls, imports, registries)."""
    sources = {path: path.read_text() for path in sorted(package.rglob("*.py"))}
    mentions = Counter(
        word for text in sources.values() for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
    )
    unused = []
    for path, text in sources.items():
        for node in ast.parse(text).body:
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and not node.decorator_list and mentions[node.name] <= 1:
                unused.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.name}")
    return unused


def test_every_module_level_function_is_used_by_the_package() -> None:
    assert unused_functions(PACKAGE) == []


def test_the_check_finds_a_function_nobody_calls(tmp_path: Path) -> None:
    (tmp_path / "used.py").write_text("def helper():\n    return 1\n\n\nVALUE = helper()\n")
    (tmp_path / "dead.py").write_text("import functools\n\n\ndef forgotten():\n    return 2\n")
    assert unused_functions(tmp_path) == [f"{tmp_path.name}/dead.py:4 forgotten"]
