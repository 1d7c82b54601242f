"""Listing a run's folder on a local disk while other writers change it (log chunks are renamed
into place and merged away): a file gone since it was listed is skipped, never an error."""

from __future__ import annotations

from pathlib import Path

from mizzen.artifacts import local


def test_a_file_removed_while_its_folder_is_listed_is_skipped(tmp_path: Path) -> None:
    logs = tmp_path / "run" / "logs"
    logs.mkdir(parents=True)
    for name in ("000000000000-000000000010.ndjson", "000000000010-000000000020.ndjson"):
        (logs / name).write_text("{}\n")
    listing = local.walk(str(tmp_path), "run", "logs")
    first, _ = next(listing)  # the folder's names are read by now
    for other in logs.iterdir():
        if f"logs/{other.name}" != first:
            other.unlink()  # merged away by a compaction, say
    assert list(listing) == []


def test_files_still_being_written_are_not_listed(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "a.txt").write_text("a")
    (tmp_path / "run" / "b.txt.0123.partial").write_text("b")
    assert [path for path, _ in local.walk(str(tmp_path), "run", "")] == ["a.txt"]
