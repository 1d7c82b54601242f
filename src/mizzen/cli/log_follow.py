"""Following a run's log stream in a thread of its own, for the commands that watch a run.

Every line is printed, in order: when the terminal is slower than the job, the stream waits (the
server reads the stored lines from where the reader is), nothing is dropped. Printing can be paused
(while `mizzen run` asks whether to stop the run) and resumed where it stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from mizzen.errors import ApiError

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.schemas.api import LogLine

RECONNECT_SECONDS = 1.0


class LogPrinter(threading.Thread):
    """Prints the run's log lines from line ``offset`` until the server ends the stream (the run is
    done); reconnects from where it was if the stream breaks. ``offset`` is the next line to print."""

    def __init__(
        self, client: MizzenClient, uuid: str, offset: int, print_line: Callable[[LogLine], None]
    ) -> None:
        super().__init__(daemon=True, name="mizzen-log-follow")
        self.client = client
        self.uuid = uuid
        self.offset = offset
        self.print_line = print_line
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self._printing = threading.Event()  # cleared: paused
        self._printing.set()
        self._print_lock = threading.Lock()  # held while a line is being printed
        # True while a line is being written: a reader that does not read (a pager, Ctrl-S) holds
        # the write, which is a slow terminal, not a stalled stream.
        self.writing = False

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    for line in self.client.logs.follow(self.uuid, offset=self.offset):
                        if not self._print(line):
                            return
                    return  # the server closed the stream: the run is done
                except ApiError:
                    if self.stop_event.wait(RECONNECT_SECONDS):
                        return
        finally:
            self.finished.set()

    def _print(self, line: LogLine) -> bool:
        """Print one line once printing is not paused; False when asked to stop."""
        while True:
            if self.stop_event.is_set():
                return False
            if not self._printing.wait(0.2):
                continue
            with self._print_lock:
                if self.stop_event.is_set():
                    return False
                if not self._printing.is_set():  # paused between the wait and the lock
                    continue
                self.writing = True
                try:
                    self.print_line(line)
                finally:
                    self.writing = False
                self.offset += 1
                return True

    def pause(self) -> None:
        """Stop printing; returns once no line is being printed (the stream waits meanwhile)."""
        self._printing.clear()
        with self._print_lock:
            pass

    def resume(self) -> None:
        self._printing.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._printing.set()
