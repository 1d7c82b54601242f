"""What `mizzen run` shows while it watches a run: every log line once and in order, each status
once, and a Ctrl-C question that the log lines do not write over. Real CLI processes; the Ctrl-C
test drives `mizzen run` through a real pseudo-terminal, as a user's terminal does."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import termios
import time
from pathlib import Path

from test_run import MIZZEN, home, write

__all__ = ["home"]

LINES = 200_000
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _chatty_job(folder: Path) -> Path:
    """A job that prints LINES numbered lines as fast as it can."""
    return write(
        folder,
        "chatty.yaml",
        f"""
        version: 1.1
        kind: component
        name: chatty
        run:
          kind: job
          container:
            image: x
            command: ["python", "-c", "for i in range({LINES}): print('line', i)"]
        """,
    )


def test_a_chatty_job_streams_every_line_in_order(home: Path, tmp_path: Path) -> None:
    spec = _chatty_job(tmp_path)
    result = subprocess.run(
        [MIZZEN, "run", "-f", str(spec)], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    numbers = [int(line[5:]) for line in result.stdout.splitlines() if line.startswith("line ")]
    assert len(numbers) == LINES
    assert numbers == list(range(LINES))
    assert "not shown here" not in result.stderr
    # The final status comes once, after the last log line.
    lines = result.stdout.splitlines()
    assert lines.index("line 199999") < lines.index("● succeeded")
    assert result.stdout.count("succeeded") == 2  # the status line and the summary's


def test_a_reader_that_stops_reading_for_a_while_still_gets_every_line(home: Path, tmp_path: Path) -> None:
    """A pager or Ctrl-S holds `mizzen run`'s writes past the run's end for longer than a stalled
    stream is waited for: that is a slow terminal, and no line is given up."""
    from mizzen.cli.run_watch import STALL_SECONDS

    spec = _chatty_job(tmp_path)
    watcher = subprocess.Popen(
        [MIZZEN, "run", "-f", str(spec)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 300
        while not _latest_run_succeeded():  # the job has printed everything; nobody reads yet
            assert time.monotonic() < deadline, "the job did not end"
            time.sleep(0.2)
        time.sleep(STALL_SECONDS + 2)  # the reader keeps not reading, past the stall limit
        output, errors = watcher.communicate(timeout=600)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, errors[-2000:]
    numbers = [int(line[5:]) for line in output.splitlines() if line.startswith("line ")]
    assert numbers == list(range(LINES))
    assert "not shown here" not in errors


def _latest_run_succeeded() -> bool:
    result = subprocess.run([MIZZEN, "ops", "ls", "--json"], capture_output=True, text=True, check=False)
    runs = json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []
    return bool(runs) and runs[0]["status"] == "succeeded"


class Terminal:
    """`mizzen ARGS` on a pseudo-terminal: what it printed so far, and keys typed into it.

    `mizzen` starts as a shell starts a foreground command: SIGINT at its default, whatever this
    process inherited (a shell's ``pytest ... &`` ignores SIGINT, and an ignored signal stays ignored
    across exec: Ctrl-C would do nothing). The terminal is set ``noflsh``: by default a Ctrl-C makes
    the kernel discard the output still queued to the terminal, lines `mizzen` did print."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "COLUMNS": "200", "LINES": "50", "TERM": "xterm"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes `mizzen`, its terminal the pty
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                attributes = termios.tcgetattr(0)
                attributes[3] |= termios.NOFLSH  # lflag
                termios.tcsetattr(0, termios.TCSANOW, attributes)
                os.execve(MIZZEN, [MIZZEN, *args], env)
            finally:
                os._exit(127)  # never back into pytest
        self.output = ""
        self.closed = False

    def read_until(self, condition: object, timeout: float = 120) -> str:
        """Read until ``condition(text so far)`` holds (or the terminal closes); the text so far."""
        deadline = time.monotonic() + timeout
        while not condition(self.text):  # type: ignore[operator]
            assert not self.closed, f"mizzen ended first; it printed:\n{self.text[-3000:]}"
            assert time.monotonic() < deadline, f"timed out; printed so far:\n{self.text[-3000:]}"
            self._read(0.5)
        return self.text

    def read_to_end(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while not self.closed:
            assert time.monotonic() < deadline, f"mizzen did not end; printed:\n{self.text[-3000:]}"
            self._read(0.5)
        return self.text

    def _read(self, wait: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            self.closed = True
        self.output += data.decode(errors="replace")

    @property
    def text(self) -> str:
        """What `mizzen` printed: without escape codes, nor the terminal's echo of a Ctrl-C ("^C",
        which may land in the middle of a line)."""
        return ANSI.sub("", self.output.replace("^C", "")).replace("\r\n", "\n").replace("\r", "\n")

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def exit_code(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_ctrl_c_pauses_the_logs_while_asking_and_answering_n_goes_on_where_it_was(
    home: Path, tmp_path: Path
) -> None:
    counter, release = tmp_path / "counter", tmp_path / "release"
    job = write(
        tmp_path,
        "ticks.py",
        f"""
        import os, time
        i = 0
        while not os.path.exists({str(release)!r}):
            print("tick", i, flush=True)
            with open({str(counter)!r} + ".tmp", "w") as out:
                out.write(str(i))
            os.replace({str(counter)!r} + ".tmp", {str(counter)!r})
            i += 1
            time.sleep(0.02)
        print("released", flush=True)
        """,
    )
    spec = write(
        tmp_path,
        "ticks.yaml",
        f"""
        version: 1.1
        kind: component
        name: ticks
        run:
          kind: job
          container: {{image: x, command: ["python", "{job}"]}}
        """,
    )
    terminal = Terminal("run", "-f", str(spec))
    try:
        terminal.read_until(lambda text: "tick 20\n" in text)
        terminal.type(b"\x03")  # Ctrl-C, as the terminal sends it
        before = terminal.read_until(lambda text: "Stop the run? [Y/n]:" in text)
        asked_at = len(before)
        # While the question waits, the job goes on (50 more ticks) but nothing is printed over it.
        reached = int(counter.read_text())
        deadline = time.monotonic() + 120
        while int(counter.read_text() or 0) < reached + 50:
            assert time.monotonic() < deadline, "the job stopped ticking"
            time.sleep(0.05)
        terminal._read(0.5)
        assert "tick" not in terminal.text[asked_at:], terminal.text[asked_at:]
        terminal.type(b"n\r")
        terminal.read_until(lambda text: "watching again" in text)
        terminal.read_until(lambda text: f"tick {reached + 50}\n" in text)
        release.touch()
        text = terminal.read_to_end()
    finally:
        if not terminal.closed:
            os.kill(terminal.pid, 9)
    assert terminal.exit_code() == 0, text[-3000:]
    ticks = [int(n) for n in re.findall(r"^tick (\d+)$", text, re.MULTILINE)]
    assert ticks == list(range(len(ticks))), "a log line was replayed, lost or out of order"
    assert ticks[-1] >= reached + 50
    assert "released" in text
    assert "mizzen | image 'x' recorded, not run" in text  # a prefixed line keeps its prefix
    for status in ("● running", "● succeeded"):
        assert text.count(status) == 1, text[-3000:]
