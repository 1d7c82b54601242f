"""``import mizzen.tracking`` stays light: no server, store, compiler or heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = [
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "kubernetes",
    "alembic",
    "mizzen.server",
    "mizzen.store",
    "mizzen.compiler",
    "mizzen.scheduler",
    "mizzen.executors",
    # not forbidden by the architecture, but kept out on purpose: they come with init()
    "httpx",
    "pydantic",
    "numpy",
    "pandas",
]


def test_importing_tracking_loads_no_heavy_module() -> None:
    code = (
        "import json, sys\n"
        "from mizzen import tracking\n"
        "assert callable(tracking.log_metric)\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
