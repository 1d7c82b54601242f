"""Engines and sessions: SQLite (WAL, the embedded default) or PostgreSQL (psycopg 3).

``read_session(db)`` and ``write_session(db)`` are the only way the rest of the store gets a session
(the store's gateway; the server and the scheduler never get one).
On SQLite a write session starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, so two
writers queue on the busy timeout instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from mizzen.errors import Conflict, InvalidInput

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "mizzen_write"


def normalize_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3, the driver Mizzen ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    serializer = partial(json.dumps, allow_nan=False, separators=(",", ":"))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, serializer)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=serializer)


def _sqlite_engine(url: str, database: str | None, serializer: Any) -> Engine:
    in_memory = not database or database == ":memory:"
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=StaticPool if in_memory else None,
        json_serializer=serializer,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """One database: its engine, and read/write sessions that commit or roll back as a unit."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        # Its transactions take the write lock up front (BEGIN IMMEDIATE on SQLite).
        self.write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        # SQLite has one writer at a time. The threads of this process queue for it here, each
        # going the moment the last one commits, rather than in SQLite's busy handler, which
        # sleeps (1, 2, 5 ... 100 ms) between tries. Other processes still meet the busy handler.
        self._writers = threading.RLock() if self.dialect == "sqlite" else contextlib.nullcontext()

    def dispose(self) -> None:
        self.engine.dispose()


# Sessions are opened by these two functions, not by ``Database`` methods, so that a ``Database``
# handed to the server or the scheduler gives them none: they go through ``mizzen.store.gateway``,
# and the import contract keeps them out of this module.
@contextmanager
def read_session(db: Database) -> Iterator[Session]:
    """A session to read in, rolled back when the block ends."""
    with db._read_sessions() as session, _translated_errors():
        yield session
        session.rollback()


@contextmanager
def write_session(db: Database) -> Iterator[Session]:
    """A transaction that commits when the block ends without an error."""
    with db._writers, db._write_sessions() as session, _translated_errors(), session.begin():
        yield session


def is_unavailable(error: BaseException) -> bool:
    """True for a database that failed for a moment (locked too long, connection lost, restarting):
    trying again later can succeed."""
    return isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.TimeoutError))


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Database refusals caused by a value become user errors; nothing else is swallowed."""
    try:
        yield
    except exc.IntegrityError as error:
        raise Conflict(f"the change conflicts with stored data: {_first_line(error.orig)}") from error
    except exc.DataError as error:
        raise InvalidInput(f"the database rejected a value: {_first_line(error.orig)}") from error
    except exc.StatementError as error:
        if isinstance(error.orig, (ValueError, TypeError)):
            raise InvalidInput(f"a value cannot be stored: {error.orig}") from error
        raise


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error else "unknown error"
