"""How a command reaches the API: the server in `MIZZEN_HOST` / `mizzen config set host`, or, with no
server configured, the same API served inside this process (embedded mode) over the local store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.settings import Settings


def load_settings() -> Settings:
    from mizzen.settings import Settings

    return Settings.load()


@contextmanager
def api(settings: Settings | None = None, *, run_executor: bool = False) -> Iterator[MizzenClient]:
    """A client for the API. ``run_executor`` (embedded mode only): also run the local executor in
    this process, so that runs created through this client are executed while it is open."""
    from mizzen.client import MizzenClient

    settings = settings or load_settings()
    if settings.host:
        with MizzenClient(settings.host, token=settings.token) as client:
            yield client
        return
    from mizzen.server.embedded import EmbeddedServer

    with EmbeddedServer(settings, run_executor=run_executor) as server, MizzenClient(server.url) as client:
        yield client
