"""A real HTTP server on loopback that records what notifiers post (answers scripted per request),
and helpers to run jobs with hooks through a real embedded server (store, local executor)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # status of each request in turn; then 200
    received: list[dict[str, Any]] = field(default_factory=list)  # every request: path, status, body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.received if r["status"] == 200]

    def wait_for(self, count: int, timeout: float = 90) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.delivered()) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.delivered())} deliveries, not {count}: {self.received}"
            )
            time.sleep(0.05)
        return self.delivered()


@contextmanager
def receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    state = Receiver(url="", answers=list(answers or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            with state.lock:
                status = state.answers.pop(0) if state.answers else 200
                state.received.append({"path": self.path, "status": status, "body": body})
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"busy")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def wait_until(check: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value
