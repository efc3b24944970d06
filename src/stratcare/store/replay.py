"""JWT replay protection shared by every process: a ``(issuer, jti)`` is accepted once until it expires.

The check is one atomic statement, one round trip: ``INSERT … ON CONFLICT DO UPDATE … WHERE`` the stored use
has expired, ``RETURNING`` the row only when it was inserted or an expired use was taken over. Of two
processes presenting the same token at once, exactly one wins. Expired rows are purged now and then, never
on every call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store.database import insert_or_take_over, one_statement_write, write_serialised
from stratcare.store.schema import as_utc, jwt_replay

PURGE_INTERVAL = timedelta(minutes=5)


class SqlReplayGuard:
    def __init__(self, engine: AsyncEngine, purge_interval: timedelta = PURGE_INTERVAL) -> None:
        self._engine = engine
        self._purge_interval = purge_interval
        self._last_purge: datetime | None = None

    async def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """True the first time ``(issuer, jti)`` is seen; False while an earlier use has not expired."""
        if not issuer or not jti:
            raise ValueError("issuer and jti must not be empty")
        now = as_utc(now, "now")
        values = {"issuer": issuer, "jti": jti, "expires_at": as_utc(expires_at, "expires_at")}
        # An expired use no longer blocks: the token itself is refused as expired before it gets here.
        statement = insert_or_take_over(
            self._engine.dialect.name,
            jwt_replay,
            ["issuer", "jti"],
            taken_over_when=jwt_replay.c.expires_at <= now,
        ).returning(jwt_replay.c.jti)
        purge = self._last_purge is None or now - self._last_purge >= self._purge_interval
        if not purge:
            async with one_statement_write(self._engine) as connection:
                return (await connection.execute(statement, values)).first() is not None
        async with write_serialised(self._engine) as connection:
            first = (await connection.execute(statement, values)).first() is not None
            await connection.execute(delete(jwt_replay).where(jwt_replay.c.expires_at <= now))
            self._last_purge = now
        return first
