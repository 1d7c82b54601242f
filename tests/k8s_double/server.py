"""Runs an ASGI app with uvicorn on 127.0.0.1, an ephemeral port, in a background thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from .watch import DroppedWatch


def _caused_by_drop(exc: BaseException | None) -> bool:
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DroppedWatch):
            return True
        pending.extend([current.__cause__, current.__context__])
        pending.extend(getattr(current, "exceptions", ()) or ())
    return False


class _QuietDrops(logging.Filter):
    """Deliberately dropped watches are not server errors; keep them out of the test output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and _caused_by_drop(record.exc_info[1]))


_uvicorn_error = logging.getLogger("uvicorn.error")
_uvicorn_error.addFilter(_QuietDrops())


class ServerThread:
    def __init__(self, app: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, small responses wait ~40 ms for delayed ACKs.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
            ws="none",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"k8s-double:{self.port}", daemon=True)
        self._failure: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start()
            self._failure = exc

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"k8s double did not start: {self._failure!r}")
            self._thread.join(0.005)  # uvicorn offers no event for "started"

    def stop(self, wait: bool = True) -> None:
        """Ask uvicorn to shut down (it closes the listening socket); `wait` joins its thread, which
        takes up to uvicorn's 0.1 s tick."""
        self._server.should_exit = True
        if wait:
            self._thread.join(10)
            self._sock.close()
