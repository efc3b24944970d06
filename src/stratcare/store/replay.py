"""JWT replay protection shared by every process: a ``(issuer, jti)`` is accepted once until it expires.

The check is one atomic insert (``ON CONFLICT DO NOTHING``): of two processes presenting the same token at
once, exactly one wins. Expired rows are purged now and then, never on every call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.store.database import insert_or_ignore
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
        expired = jwt_replay.c.expires_at <= now
        async with self._engine.begin() as connection:
            # An expired use no longer blocks: the token itself is refused as expired before it gets here.
            await connection.execute(
                delete(jwt_replay).where(jwt_replay.c.issuer == issuer, jwt_replay.c.jti == jti, expired)
            )
            statement = insert_or_ignore(connection, jwt_replay, ["issuer", "jti"])
            statement = statement.returning(jwt_replay.c.jti)
            values = {"issuer": issuer, "jti": jti, "expires_at": as_utc(expires_at, "expires_at")}
            first = (await connection.execute(statement, values)).first() is not None
            if self._last_purge is None or now - self._last_purge >= self._purge_interval:
                await connection.execute(delete(jwt_replay).where(expired))
                self._last_purge = now
        return first
