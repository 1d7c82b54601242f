"""A feature whose optional extra is not installed says which `pip install` adds it.

Each case runs the real CLI in its own process, where importing the extra's module fails exactly as
when it is not installed (a meta-path finder raises ModuleNotFoundError for it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WITHOUT = """
import sys

missing = set(sys.argv[1].split(","))


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in missing:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
from mizzen.cli.main import main

sys.argv = ["mizzen", *sys.argv[2:]]
sys.exit(main())
"""

CASES = [
    ("kubernetes", "kubernetes", ["agent", "--namespace", "ml", "--host", "http://127.0.0.1:9"], {}),
    (
        "psycopg",
        "postgres",
        ["ops", "ls"],
        {"MIZZEN_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres"},
    ),
    ("s3fs", "s3", ["ops", "ls"], {"MIZZEN_ARTIFACTS_STORE": "s3://bucket/artifacts"}),
    ("gcsfs", "gcs", ["ops", "ls"], {"MIZZEN_ARTIFACTS_STORE": "gs://bucket/artifacts"}),
]


@pytest.mark.parametrize(("module", "extra", "command", "env"), CASES, ids=[c[1] for c in CASES])
def test_a_missing_extra_names_the_command_that_installs_it(
    tmp_path: Path, module: str, extra: str, command: list[str], env: dict[str, str]
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIZZEN_")}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT, module, *command],
        env={**clean, "MIZZEN_HOME": str(tmp_path / "home"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Install it with: pip install 'mizzen[{extra}]'" in done.stderr, done.stderr
    assert f"no module named '{module}'" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_only_the_modules_of_an_extra_are_blamed_on_it() -> None:
    from mizzen.extras import missing_extra

    assert missing_extra(ModuleNotFoundError("No module named 'yaml'", name="yaml")) is None
    fsspec_style = ImportError("Install s3fs to access S3")  # raised while handling the real one
    fsspec_style.__cause__ = ModuleNotFoundError("No module named 's3fs'", name="s3fs")
    found = missing_extra(fsspec_style)
    assert found is not None and found.extra == "s3"
    fsspec_style.__cause__ = ModuleNotFoundError("No module named 'yarl'", name="yarl")
    assert missing_extra(fsspec_style) is None
