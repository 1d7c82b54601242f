"""``import mizzen.client`` stays light: httpx and pydantic, nothing of the server side."""

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
    "mizzen.server",
    "mizzen.store",
    "mizzen.compiler",
    "mizzen.scheduler",
    "numpy",
    "pandas",
]


def test_importing_the_client_loads_nothing_heavy() -> None:
    code = (
        "import json, sys\n"
        "from mizzen.client import MizzenClient\n"
        f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
