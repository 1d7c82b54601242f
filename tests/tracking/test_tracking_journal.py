from __future__ import annotations

import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from mizzen.tracking.journal import AckState, JournalFile, JournalLock, RunRecord, read_entries
from mizzen.tracking.writer import JournalWriter


def test_entries_are_numbered_and_read_back(tmp_path: Path) -> None:
    journal = JournalFile(tmp_path / ".tracking")
    journal.append([{"t": "m", "n": "loss", "v": 1.0, "st": 0, "ts": 1.0}])
    journal.append(
        [{"t": "tags", "tags": ["a"]}, {"t": "m", "n": "loss", "v": float("nan"), "st": 1, "ts": 2.0}]
    )
    journal.close()
    entries = read_entries(journal.path)
    assert [e["s"] for e in entries] == [0, 1, 2]
    assert entries[1] == {"t": "tags", "tags": ["a"], "s": 1}
    assert entries[2]["v"] != entries[2]["v"]  # NaN survives the journal


def test_a_torn_last_line_and_a_corrupt_line_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal-1-1.ndjson"
    path.write_text('{"t":"m","s":0}\nnot json\n{"t":"m","s":2}\n{"t":"m","s":3,"v":1.')
    assert [e["s"] for e in read_entries(path)] == [0, 2]


def test_ack_cursors_persist_per_lane(tmp_path: Path) -> None:
    journal = tmp_path / "journal-1-1.ndjson"
    ack = AckState.for_journal(journal)
    assert not ack.acked({"t": "m", "s": 0})
    ack.advance("metrics", 4)
    ack.advance("metrics", 2)  # never goes back
    ack.advance("other", 0)
    again = AckState.for_journal(journal)
    assert again.cursors == {"metrics": 5, "other": 1}
    assert again.acked({"t": "m", "s": 4}) and not again.acked({"t": "m", "s": 5})
    assert again.acked({"t": "file", "s": 0}) and not again.acked({"t": "file", "s": 3})


def test_run_record_round_trips(tmp_path: Path) -> None:
    record = RunRecord(local_id="abc", uuid=None, managed=False, host="http://h", create={"project": "p"})
    record.save(tmp_path)
    assert RunRecord.load(tmp_path) == record
    assert RunRecord.load(tmp_path / "missing") is None


def test_the_lock_is_exclusive_and_freed_when_its_process_is_killed(tmp_path: Path) -> None:
    journal = tmp_path / "journal-1-1.ndjson"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from mizzen.tracking.journal import JournalLock\n"
            f"assert JournalLock(Path({str(journal)!r})).acquire()\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert JournalLock(journal).acquire() is False
    finally:
        holder.kill()
        holder.wait()
    mine = JournalLock(journal)
    assert mine.acquire() is True
    assert JournalLock(journal).acquire() is False  # a second open file description is refused too
    mine.release()
    assert JournalLock(journal).acquire() is True


def _writer(tmp_path: Path) -> tuple[deque[tuple[Any, ...]], JournalWriter, list[dict[str, Any]]]:
    buffer: deque[tuple[Any, ...]] = deque()
    received: list[dict[str, Any]] = []
    writer = JournalWriter(buffer, JournalFile(tmp_path / ".tracking"), tmp_path, received.extend)
    writer.start()
    return buffer, writer, received


def test_the_writer_journals_in_order_and_hands_entries_to_the_uploader(tmp_path: Path) -> None:
    buffer, writer, received = _writer(tmp_path)
    for step in range(1000):
        buffer.append(("m", "loss", 1.0 / (step + 1), step, 100.0 + step))
    buffer.append(("update", "outputs", {"accuracy": 0.9}))
    buffer.append(("tags", ["x", "y"]))
    buffer.append(("status", "succeeded", "tracking", None, 1234.5))
    assert writer.flush(10)
    assert writer.stop(10)
    entries = read_entries(writer.journal.path)
    assert entries == received
    assert [e["s"] for e in entries] == list(range(1003))
    assert [e["st"] for e in entries[:1000]] == list(range(1000))
    assert entries[1000:] == [
        {"t": "update", "field": "outputs", "values": {"accuracy": 0.9}, "s": 1000},
        {"t": "tags", "tags": ["x", "y"], "s": 1001},
        {
            "t": "status",
            "status": "succeeded",
            "reason": "tracking",
            "message": None,
            "time": 1234.5,
            "s": 1002,
        },
    ]


def test_blobs_become_files_with_one_lineage_record_per_name(tmp_path: Path) -> None:
    buffer, writer, _ = _writer(tmp_path)
    lineage = {"name": "samples", "kind": "image", "path": "events/image/samples", "summary": {}}
    buffer.append(("blob", b"one", "events/image/samples/0.png", lineage, "image:samples"))
    buffer.append(("blob", lambda: b"two", "events/image/samples/1.png", lineage, "image:samples"))
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    buffer.append(("artifact", str(folder), "artifacts/data", {"name": "data", "kind": "dir"}))
    buffer.append(("artifact", str(tmp_path / "missing"), "artifacts/missing", None))
    assert writer.stop(10)
    entries = read_entries(writer.journal.path)
    assert (tmp_path / "events/image/samples/1.png").read_bytes() == b"two"
    assert [(e["t"], e.get("dest")) for e in entries] == [
        ("file", "events/image/samples/0.png"),
        ("lineage", None),
        ("file", "events/image/samples/1.png"),
        ("file", "artifacts/data/a.txt"),
        ("file", "artifacts/data/sub/b.txt"),
        ("lineage", None),
    ]


def test_a_writer_with_nothing_to_do_creates_no_journal(tmp_path: Path) -> None:
    _, writer, _ = _writer(tmp_path)
    time.sleep(0.1)
    assert writer.stop(10)
    assert not writer.journal.path.exists()
