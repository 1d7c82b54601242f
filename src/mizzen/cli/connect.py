"""How a command reaches the API: the server in `MIZZEN_HOST` / `mizzen config set host`; else a
`mizzen server` running on this machine with the same MIZZEN_HOME (it leaves its address in
``$MIZZEN_HOME/server.json``); else the same API served inside this process (embedded mode) over the
local store."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mizzen.client import MizzenClient
    from mizzen.settings import Settings


def load_settings() -> Settings:
    """Settings from the environment and ``$MIZZEN_HOME/config.yaml``; a bad value is a clear error."""
    import yaml
    from pydantic import ValidationError

    from mizzen.errors import MizzenError
    from mizzen.settings import Settings

    try:
        return Settings.load()
    except ValidationError as error:
        problem = error.errors()[0]
        name = ".".join(str(part) for part in problem["loc"])
        raise MizzenError(
            f"setting '{name}' (MIZZEN_{name.upper()} or `mizzen config set {name}`): {problem['msg']}"
        ) from None
    except (OSError, ValueError, yaml.YAMLError) as error:  # config.yaml unreadable or not YAML
        raise MizzenError(f"cannot read the settings: {error}") from None


@contextmanager
def api(
    settings: Settings | None = None, *, run_executor: bool = False, hooks_drain_seconds: float | None = None
) -> Iterator[MizzenClient]:
    """A client for the API. ``run_executor`` (embedded mode only): also run the local executor in
    this process, so that runs created through this client are executed while it is open;
    ``hooks_drain_seconds``: how long closing waits for hook deliveries under way."""
    from mizzen.client import MizzenClient

    settings = settings or load_settings()
    host = server_url(settings)
    if host:
        with MizzenClient(host, token=settings.token) as client:
            yield client
        return
    from mizzen.server.embedded import EmbeddedServer

    embedded = EmbeddedServer(settings, run_executor=run_executor, hooks_drain_seconds=hooks_drain_seconds)
    with embedded as server, MizzenClient(server.url) as client:
        yield client


SERVER_FILE = "server.json"


def server_url(settings: Settings) -> str | None:
    """The server commands talk to, or None for embedded mode (an API inside this process)."""
    return settings.host or local_server(settings.home)


def announce_server(home: Path, url: str) -> Path:
    """Written by `mizzen server`: commands on this machine use it instead of their own API."""
    path = home / SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    partial.replace(path)  # atomic: a command starting now reads the old file or the new one, whole
    return path


def local_server(home: Path) -> str | None:
    """The URL of a live `mizzen server` of this MIZZEN_HOME, if one runs."""
    path = home / SERVER_FILE
    try:
        info = json.loads(path.read_text())
        pid, url = int(info["pid"]), str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)  # a server that died without cleaning up
        return None
    except PermissionError:
        pass
    return url
