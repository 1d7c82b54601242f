"""The import-linter contracts in pyproject.toml say what their names say, and they bite.

Each contract follows indirect and type-only imports (no ``allow_indirect_imports``), every module
of the package sits in the layers contract, each "only X knows L" contract checks the whole package
but X's own imports of L, and the real ``lint-imports`` breaks the right contract when a copy of the
package is given the import the rule forbids.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "mizzen"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def linter_config() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]


def contract(name_start: str) -> dict[str, Any]:
    (found,) = [c for c in linter_config()["contracts"] if c["name"].startswith(name_start)]
    return found


def top_level_modules() -> set[str]:
    """``mizzen.X`` for each package and module directly in the package."""
    return {f"mizzen.{path.stem}" for path in PACKAGE.iterdir() if path.suffix == ".py" or path.is_dir()} - {
        "mizzen.__init__",
        "mizzen.__pycache__",
    }


def test_every_contract_follows_indirect_and_type_only_imports() -> None:
    config = linter_config()
    assert config["exclude_type_checking_imports"] is False
    loose = [c["name"] for c in config["contracts"] if c.get("allow_indirect_imports")]
    assert loose == []


def test_every_package_is_in_the_layers_contract() -> None:
    layered = {name.strip() for line in contract("layers")["layers"] for name in line.split("|")}
    assert top_level_modules() - layered == set(), "modules the layers contract does not place"


# "only X knows L": the contract's name, and the packages whose own imports of L it ignores
ONLY_X_KNOWS = {
    "only render.k8s and executors.kubernetes know Kubernetes": {"mizzen.executors.kubernetes"},
    "only the store knows SQLAlchemy": {"mizzen.store"},
    "only the server knows FastAPI": {"mizzen.server"},
}


@pytest.mark.parametrize(("name", "allowed"), ONLY_X_KNOWS.items())
def test_an_only_x_knows_contract_checks_every_module_but_xs_own_imports(
    name: str, allowed: set[str]
) -> None:
    rule = contract(name)
    assert rule["source_modules"] == ["mizzen"]
    for pattern in rule["ignore_imports"]:
        importer, imported = pattern.split(" -> ")
        assert importer.removesuffix(".**") in allowed, pattern
        assert imported in rule["forbidden_modules"], pattern


GATEWAY_ONLY = "the server and the scheduler see no session or ORM row"


def test_the_gateway_contract_covers_the_server_and_scheduler_and_ignores_only_the_store() -> None:
    rule = contract(GATEWAY_ONLY)
    assert rule["type"] == "forbidden"
    assert rule["source_modules"] == ["mizzen.server", "mizzen.scheduler"]
    assert set(rule["forbidden_modules"]) == {
        "mizzen.store.orm",
        "mizzen.store.repos",
        "mizzen.store.database",
    }
    for pattern in rule["ignore_imports"]:
        importer, imported = pattern.split(" -> ")
        assert importer.removesuffix(".**") == "mizzen.store", pattern
        assert imported.removesuffix(".**") in rule["forbidden_modules"], pattern


# (module that gets the import, the import, the contract that must break)
VIOLATIONS = [
    ("store/repos/scheduling.py", "import mizzen.scheduler.loop", "layers:"),
    ("schemas/statuses.py", "import mizzen.client", "layers:"),
    ("cli/ops.py", "import mizzen.store", "client, tracking and cli talk HTTP"),
    ("cli/ops_views.py", "import mizzen.server.embedded", "client, tracking and cli talk HTTP"),
    ("server/services/projects.py", "from sqlalchemy.orm import Session", "only the store knows SQLAlchemy"),
    ("agent/options.py", "import kubernetes", "only render.k8s and executors.kubernetes"),
    ("executors/local/outcome.py", "import starlette", "only the server knows FastAPI"),
    ("server/services/metrics.py", "from mizzen.store.repos import runs", GATEWAY_ONLY),
    ("server/services/agents.py", "from mizzen.store.orm import RunRow", GATEWAY_ONLY),
    ("server/services/projects.py", "from mizzen.store.database import Database", GATEWAY_ONLY),
    ("server/services/logs.py", "from mizzen.store.repos import runs", GATEWAY_ONLY),
    ("server/services/artifacts.py", "from mizzen.store.repos import lineage", GATEWAY_ONLY),
    ("scheduler/store_source.py", "from mizzen.store.orm import RunRow", GATEWAY_ONLY),
    ("server/services/runs.py", "from mizzen.store import database", GATEWAY_ONLY),
    ("server/routers/runs.py", "from mizzen.store.database import write_session", GATEWAY_ONLY),
    ("server/app.py", "import mizzen.store.orm", GATEWAY_ONLY),
    ("scheduler/loop.py", "from mizzen.store.repos import scheduling", GATEWAY_ONLY),
    # indirectly: a module the services import (settings) that reaches the store's repositories
    ("settings.py", "import mizzen.store.repos.runs", GATEWAY_ONLY),
]


def lint_imports(tmp_path: Path, module: str | None = None, line: str = "") -> str:
    """Run the real ``lint-imports`` over a copy of the package, ``line`` added to ``module``."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "mizzen", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    if module is not None:
        with (tmp_path / "src" / "mizzen" / module).open("a") as handle:
            handle.write(f"\n{line}  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done.stdout + done.stderr


def test_the_contracts_hold_on_a_copy_of_the_package(tmp_path: Path) -> None:
    output = lint_imports(tmp_path)
    assert "0 broken" in output, output


@pytest.mark.parametrize(
    ("module", "line", "broken"), VIOLATIONS, ids=[v[1] + " in " + v[0] for v in VIOLATIONS]
)
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    output = lint_imports(tmp_path, module, line)
    section = output.split("Broken contracts", 1)
    assert len(section) == 2, output
    assert broken in section[1], output
