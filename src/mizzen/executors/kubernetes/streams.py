"""Streamed HTTP bodies (watches, log follows): reading them line by line, and cutting them from
another thread when the executor closes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from mizzen.executors.kubernetes.failures import ApiFailure


def read_lines(response: Any) -> Iterator[str]:
    """Lines of a streamed body (blank lines kept; a last line without newline still counts)."""
    pending = b""
    for chunk in response.stream(amt=None, decode_content=False):
        pending += chunk if isinstance(chunk, bytes) else str(chunk).encode()
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield raw.decode("utf-8", errors="replace").removesuffix("\r")
    if pending:
        yield pending.decode("utf-8", errors="replace")


def close_quietly(response: Any) -> None:
    """Close the connection under a stream (a half-read one must not go back to the pool)."""
    for step in (response.close, response.release_conn):
        with contextlib.suppress(Exception):  # the stream may already be broken
            step()


def cut(response: Any) -> None:
    """End a stream another thread is reading: shut its socket down (closing the response from here
    would wait for the reader's lock); the reader sees the end and closes it."""
    sock = getattr(getattr(response, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class OpenStreams:
    """The streams being read right now; ``close_all()`` cuts them and refuses new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self.closed = False

    @contextlib.contextmanager
    def track(self, response: Any) -> Iterator[None]:
        with self._lock:
            accepted = not self.closed
            if accepted:
                self._open.add(response)
        if not accepted:
            close_quietly(response)
            raise ApiFailure(0, "Closed", "the Kubernetes adapter is closed")
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(response)
            close_quietly(response)

    def close_all(self) -> None:
        with self._lock:
            self.closed = True
            streams, self._open = list(self._open), set()
        for response in streams:
            cut(response)
