"""The async engine: SQLite (aiosqlite) for the embedded demo, PostgreSQL (psycopg 3) in production.

SQLite runs in WAL mode with foreign keys on, and every transaction starts with ``BEGIN IMMEDIATE``: it
takes the single write lock up front, so two transactions never deadlock upgrading a read to a write and
a claim reads and updates outbox rows without another writer in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000


def async_url(url: str) -> URL:
    """``url`` with its async driver: ``sqlite:///`` and ``postgresql://`` are accepted as shorthand."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ValueError(f"not a database URL: {error}") from None
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        supported = "sqlite+aiosqlite:// or postgresql+psycopg://"
        raise ValueError(f"unsupported database driver {parsed.drivername!r}; use {supported}")
    if driver.startswith("sqlite") and _in_memory(parsed):
        raise ValueError(
            "in-memory SQLite is not supported: the service and its outbox worker need connections to one "
            "shared database; use a file, e.g. sqlite+aiosqlite:///./stratcare.db"
        )
    return parsed.set(drivername=driver)


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine for ``url`` (see ``async_url``); ``options`` go to ``create_async_engine``."""
    engine = create_async_engine(async_url(url), **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (the driver's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_or_ignore(connection: AsyncConnection, table: Table, conflict_on: Sequence[str]) -> Insert:
    """``INSERT … ON CONFLICT (conflict_on) DO NOTHING`` in the connection's dialect."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict_on))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict_on))
