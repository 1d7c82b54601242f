"""Which file an interpreter command runs, and the hint for a run without code."""

from __future__ import annotations

from pathlib import Path

import pytest

from mizzen.executors.local.missing_code import no_code_hint, script_of


@pytest.mark.parametrize(
    ("argv", "script"),
    [
        (["python", "train.py", "--lr", "1"], "train.py"),
        (["python3.11", "-u", "-W", "ignore", "src/train.py"], "src/train.py"),
        (["/usr/bin/python", "-X", "dev", "train.py"], "train.py"),
        (["python", "-m", "train"], None),
        (["python", "-c", "print(1)"], None),
        (["python", "-"], None),
        (["bash", "-e", "run.sh"], "run.sh"),
        (["sh", "-o", "pipefail", "run.sh"], "run.sh"),
        (["sh", "-c", "python train.py"], None),
        (["bash", "-ec", "python train.py"], None),
        (["python", "-uc", "print(1)"], None),
        (["python", "-Wignore::DeprecationWarning", "train.py"], "train.py"),
        (["python", "-Xfrozen_modules=off", "-m", "train"], None),
        (["torchrun", "train.py"], None),
        ([], None),
    ],
)
def test_the_script_of_a_command(argv: list[str], script: str | None) -> None:
    assert script_of(argv) == script


def test_a_hint_only_when_the_script_is_missing(tmp_path: Path) -> None:
    (tmp_path / "here.py").write_text("")
    assert no_code_hint(["python", "here.py"], str(tmp_path)) is None
    hint = no_code_hint(["python", "gone.py"], str(tmp_path))
    assert hint is not None and "gone.py is not in the run's working folder" in hint
    assert "mizzen run -u" in hint
