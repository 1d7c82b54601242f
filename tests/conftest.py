"""Shared fixtures: real databases, isolated settings, and the real API served over HTTP.

- ``pg_url``: a fresh, empty PostgreSQL database (127.0.0.1:5432) for the test session/worker.
- ``pg_database_factory``: makes more fresh PostgreSQL databases; all are dropped at the end.
- ``db_url``: an empty database per test, parametrised over ``sqlite`` and ``postgresql``.
- ``settings``: ``Settings`` with ``MIZZEN_HOME`` in ``tmp_path`` (also exported to the environment,
  so subprocesses see the same home) and every other ``MIZZEN_*`` variable removed.
- ``api_app`` / ``api_server``: ``create_app(settings)`` and that app served by uvicorn on
  127.0.0.1 (an ephemeral port) in a background thread; ``api_server`` is its base URL.
- ``serve_app``: ``with serve_app(app) as base_url:`` serves any ASGI app the same way.
- ``write``: ``write("name.yaml", text)`` writes dedented text under ``tmp_path``, returns the path.
"""

from __future__ import annotations

import os
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mizzen.settings import Settings

PG_ADMIN_DSN = os.environ.get("MIZZEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def _sqlalchemy_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[Callable[[], str]]:
    """Call it to get the SQLAlchemy URL of a new empty database (unique per worker and process)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    created: list[str] = []

    def make() -> str:
        name = f"mizzen_test_{worker}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _sqlalchemy_url(PG_ADMIN_DSN, name)

    yield make
    for name in created:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url(pg_database_factory: Callable[[], str]) -> str:
    return pg_database_factory()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one test, on each backend in turn (a PostgreSQL one is dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mizzen.db'}"
        return
    factory: Callable[[], str] = request.getfixturevalue("pg_database_factory")
    url = factory()
    yield url
    _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("MIZZEN_") and name != "MIZZEN_TEST_PG_ADMIN":
            monkeypatch.delenv(name)
    home = tmp_path / "mizzen-home"
    monkeypatch.setenv("MIZZEN_HOME", str(home))
    return Settings.load()


@pytest.fixture
def api_app(settings: Settings) -> Iterator[Any]:
    from mizzen.server.app import create_app

    app = create_app(settings)
    yield app
    app.state.services.close()


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on 127.0.0.1 (port 0: the OS picks a free one)."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="mizzen-test-api")
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test API server did not start")
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def serve_app() -> Callable[[Any], AbstractContextManager[str]]:
    return _serve


@pytest.fixture
def api_server(api_app: Any) -> Iterator[str]:
    with _serve(api_app) as base_url:
        yield base_url


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("name.yaml", yaml_text) -> the file's path (text dedented, leading blank lines dropped)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
