"""The async engine: SQLite (aiosqlite) for the embedded demo, PostgreSQL (psycopg 3) in production.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across a process crash; a power cut may lose
the last commits, never corrupt the file) and foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: it takes the single write lock up front, so two transactions never deadlock upgrading a
read to a write and a claim reads and updates outbox rows without another writer in between. Within one
process, write transactions go through ``write_serialised``, which queues them on an ``asyncio.Lock``
instead of letting them spin in SQLite's busy-wait backoff (the source of a seconds-long latency tail under
concurrent calls); the busy timeout is then only for writers in other processes (the outbox worker).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table, event
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
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


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
        cursor.execute("PRAGMA synchronous=NORMAL")
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


def insert_or_take_over(
    dialect: str, table: Table, conflict_on: Sequence[str], *, taken_over_when: ColumnElement[bool]
) -> Insert:
    """``INSERT … ON CONFLICT (conflict_on) DO UPDATE`` every other column ``WHERE taken_over_when``: a
    conflicting row is replaced only when the condition holds (with ``RETURNING``, a row comes back only
    when one was inserted or replaced)."""
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(table)
    replaced = {
        column.name: statement.excluded[column.name]
        for column in table.columns
        if column.name not in conflict_on
    }
    return statement.on_conflict_do_update(
        index_elements=list(conflict_on), set_=replaced, where=taken_over_when
    )


@asynccontextmanager
async def write_serialised(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction, committed on exit; on SQLite, one at a time within this process."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            yield connection
        return
    lock = _SQLITE_WRITE_LOCKS.setdefault(engine.sync_engine, asyncio.Lock())
    async with lock, engine.begin() as connection:
        yield connection


@asynccontextmanager
async def serialised_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a write transaction its user begins and commits; on SQLite, held by one user at
    a time within this process (the lock ``write_serialised`` takes)."""
    if engine.dialect.name != "sqlite":
        async with engine.connect() as connection:
            yield connection
        return
    lock = _SQLITE_WRITE_LOCKS.setdefault(engine.sync_engine, asyncio.Lock())
    async with lock, engine.connect() as connection:
        yield connection
