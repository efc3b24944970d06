"""JWT replay protection shared by every process: a ``(issuer, jti)`` is accepted once until it expires.

The check is one atomic statement, ``INSERT … ON CONFLICT DO UPDATE … WHERE`` the stored use has expired,
``RETURNING`` the row only when it was inserted or an expired use was taken over: of two processes
presenting the same token at once, exactly one wins. It is queued with the other writes of this process
(``group_commit``), so concurrent checks share one statement and a hook call's check is committed with
the call's own rows (``SqlHookRecorder``).
"""

from __future__ import annotations

from datetime import datetime

from stratcare.auth.replay import TokenUse
from stratcare.store.group_commit import GroupCommit, WriteUnit


class SqlReplayGuard:
    def __init__(self, writes: GroupCommit) -> None:
        self._writes = writes

    async def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """True the first time ``(issuer, jti)`` is seen; False while an earlier use has not expired."""
        # An expired use no longer blocks: the token itself is refused as expired before it gets here.
        return await self._writes.write(WriteUnit(token=TokenUse(issuer, jti, expires_at, now)))
