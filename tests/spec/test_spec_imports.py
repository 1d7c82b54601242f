"""``import mizzen.spec`` stays light: no templating, HTTP, database or Kubernetes libraries."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_spec_pulls_no_heavy_library() -> None:
    code = "import json, sys, mizzen.spec; print(json.dumps(sorted(sys.modules)))"
    modules = json.loads(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    )
    roots = {name.split(".")[0] for name in modules}
    assert "pydantic" in roots and "yaml" in roots
    for heavy in ("jinja2", "httpx", "sqlalchemy", "fastapi", "kubernetes", "optuna", "typer", "rich"):
        assert heavy not in roots, heavy
    assert not [name for name in modules if name.startswith("mizzen.compiler")]
