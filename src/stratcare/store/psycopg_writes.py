"""PostgreSQL: a batch of write units sent by psycopg itself, on a connection of the writer's own.

The statements are those ``batch_writes`` sends, compiled once by SQLAlchemy for this dialect (same SQL,
same casts) and fed the values SQLAlchemy would bind (each column type's own bind processor). What is left
out is the per-statement work between them: pool checkout and reset, the greenlet bridge, statement
construction and caching, result wrapping. psycopg sends each ``executemany`` as one pipeline, and a
batch takes three round trips: the token uses, the calls (their ids are needed next), then everything
else with the commit. Errors are SQLAlchemy's exceptions, as on the other store paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Table, bindparam, delete, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from stratcare.auth.replay import TokenUse
from stratcare.store import schema
from stratcare.store.batch_writes import PURGE_INTERVAL, first_uses, token_rows
from stratcare.store.database import insert_or_take_over
from stratcare.store.group_commit import CallRows, CommitUncertain, Row, WriteUnit
from stratcare.store.schema import UtcDateTime, as_utc

logger = logging.getLogger(__name__)

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Statement:
    sql: str
    processors: Mapping[str, Processor]

    def params(self, row: Row) -> Row:
        processors = self.processors
        return {key: processors[key](value) if key in processors else value for key, value in row.items()}


class PsycopgBatchWriter:
    """Implements ``BatchWriter`` on PostgreSQL (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, purge_interval: timedelta = PURGE_INTERVAL) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("PsycopgBatchWriter needs a PostgreSQL engine")
        self._dialect = engine.dialect
        _, self._connect_kwargs = engine.dialect.create_connect_args(engine.url)
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._statements: dict[tuple[str, tuple[str, ...]], _Statement] = {}
        self._purge_interval = purge_interval
        self._last_purge: datetime | None = None

    async def write(self, units: Sequence[WriteUnit]) -> list[bool]:
        connection = await self._connected()
        try:
            accepted = await self._insert(connection, units)
        except psycopg.Error as error:
            await self._after_failure(connection)
            raise _wrapped(error) from error
        except BaseException:
            await self._after_failure(connection)
            raise
        try:
            await connection.commit()
        except Exception as error:
            await self._after_failure(connection)
            raise CommitUncertain(f"commit failed: {type(error).__name__}") from error
        return accepted

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _connected(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None or self._connection.closed or self._connection.broken:
            try:
                self._connection = await psycopg.AsyncConnection.connect(**self._connect_kwargs)
            except psycopg.Error as error:
                raise _wrapped(error) from error
        return self._connection

    async def _after_failure(self, connection: psycopg.AsyncConnection[Any]) -> None:
        try:
            await connection.rollback()
        except psycopg.Error:
            logger.warning("store connection lost; reconnecting on the next write")
            await connection.close()

    async def _insert(
        self, connection: psycopg.AsyncConnection[Any], units: Sequence[WriteUnit]
    ) -> list[bool]:
        uses = [unit.token for unit in units if unit.token is not None]
        async with connection.cursor() as cursor:
            taken = await self._take_token_uses(cursor, uses) if uses else set()
            accepted = first_uses(units, taken)
            stored = [unit.rows for unit, first in zip(units, accepted, strict=True) if first and unit.rows]
            if stored:
                await self._insert_calls(cursor, stored)
            if uses:
                await self._purge_if_due(cursor, max(use.now for use in uses))
        return accepted

    async def _take_token_uses(
        self, cursor: psycopg.AsyncCursor[Any], uses: Sequence[TokenUse]
    ) -> set[tuple[str, str]]:
        now = as_utc(max(use.now for use in uses), "now")
        statement = self._statement("jwt_replay", _take_over(), ("issuer", "jti", "expires_at", "now"))
        rows = [statement.params(row | {"now": now}) for row in token_rows(uses)]
        await cursor.executemany(statement.sql, rows, returning=True)
        return {(issuer, jti) for issuer, jti in await _all_rows(cursor)}

    async def _insert_calls(self, cursor: psycopg.AsyncCursor[Any], calls: Sequence[CallRows]) -> None:
        table = schema.hook_calls
        statement = self._statement("hook_calls", insert(table).returning(table.c.id), tuple(calls[0].call))
        await cursor.executemany(statement.sql, [statement.params(c.call) for c in calls], returning=True)
        ids = [row[0] for row in await _all_rows(cursor)]
        assessments, cards = [], []
        for call_id, rows in zip(ids, calls, strict=True):
            assessments += [{**row, "hook_call_id": call_id} for row in rows.assessments]
            cards += [{**row, "hook_call_id": call_id} for row in rows.cards]
        await self._insert_rows(cursor, schema.assessments, insert(schema.assessments), assessments)
        outbox = schema.outbox
        queue = _dialect_insert(outbox).on_conflict_do_nothing(index_elements=["fhir_server", "key"])
        await self._insert_rows(cursor, outbox, queue, [row for rows in calls for row in rows.outbox])
        await self._insert_rows(cursor, schema.cards, insert(schema.cards), cards)
        suggestions = [row for rows in calls for row in rows.suggestions]
        await self._insert_rows(cursor, schema.card_suggestions, insert(schema.card_suggestions), suggestions)

    async def _insert_rows(
        self, cursor: psycopg.AsyncCursor[Any], table: Table, statement: Insert, rows: list[Row]
    ) -> None:
        if not rows:
            return
        prepared = self._statement(table.name, statement, tuple(rows[0]))
        await cursor.executemany(prepared.sql, [prepared.params(row) for row in rows])

    async def _purge_if_due(self, cursor: psycopg.AsyncCursor[Any], now: datetime) -> None:
        if self._last_purge is not None and now - self._last_purge < self._purge_interval:
            return
        replay = schema.jwt_replay
        purge = delete(replay).where(replay.c.expires_at <= bindparam("now", type_=UtcDateTime()))
        statement = self._statement("purge", purge, ("now",))
        await cursor.execute(statement.sql, statement.params({"now": now}))
        self._last_purge = now

    def _statement(self, name: str, statement: Any, keys: tuple[str, ...]) -> _Statement:
        """``statement`` compiled for ``keys`` once, with the bind processors of its parameters."""
        known = self._statements.get((name, keys))
        if known is None:
            known = _compiled(statement, keys, self._dialect)
            self._statements[(name, keys)] = known
        return known


def _compiled(statement: Any, keys: tuple[str, ...], dialect: Dialect) -> _Statement:
    columns = [key for key in keys if key in statement.table.c] if isinstance(statement, Insert) else None
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    processors: dict[str, Processor] = {}
    for name in keys:
        bind = compiled.binds.get(name)
        if bind is None:
            raise ValueError(f"{name} is not a parameter of {compiled.string!r}")
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    return _Statement(compiled.string, processors)


def _take_over() -> Insert:
    replay = schema.jwt_replay
    now = bindparam("now", type_=UtcDateTime())
    return insert_or_take_over(
        "postgresql", replay, ["issuer", "jti"], taken_over_when=replay.c.expires_at <= now
    ).returning(replay.c.issuer, replay.c.jti)


def _dialect_insert(table: Table) -> Any:
    from sqlalchemy.dialects import postgresql

    return postgresql.insert(table)


async def _all_rows(cursor: psycopg.AsyncCursor[Any]) -> list[tuple[Any, ...]]:
    """Every result set of an ``executemany(returning=True)``, in parameter order."""
    rows: list[tuple[Any, ...]] = []
    while True:
        rows += await cursor.fetchall()
        if not cursor.nextset():
            return rows


def _wrapped(error: psycopg.Error) -> BaseException:
    """The SQLAlchemy exception for a driver error (IntegrityError for a unique violation, ...)."""
    return DBAPIError.instance(None, None, error, psycopg.Error)
