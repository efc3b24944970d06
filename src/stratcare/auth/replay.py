"""One use per token: a ``jti`` seen once is refused until the token it came from has expired."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class TokenUse:
    """One presentation of a token: ``(issuer, jti)`` is refused again until ``expires_at``."""

    issuer: str
    jti: str
    expires_at: datetime
    now: datetime

    def __post_init__(self) -> None:
        if not self.issuer or not self.jti:
            raise ValueError("issuer and jti must not be empty")
        for moment in (self.expires_at, self.now):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError("token use times must be timezone-aware")


class ReplayGuard(Protocol):
    async def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record ``(issuer, jti)`` until ``expires_at``; False when it is already recorded and unexpired."""
        ...


class InMemoryReplayGuard:
    """Per-process memory of token ids; enough for one worker (tests, the SQLite demo)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._seen: dict[tuple[str, str], datetime] = {}
        self._max_entries = max_entries
        self._lock = asyncio.Lock()

    async def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        async with self._lock:
            key = (issuer, jti)
            known = self._seen.get(key)
            if known is not None and known > now:
                return False
            if len(self._seen) >= self._max_entries:
                self._forget_expired(now)
            if len(self._seen) >= self._max_entries:
                # Refuse rather than forget live ids: forgetting would re-open them to replay.
                return False
            self._seen[key] = expires_at
            return True

    def _forget_expired(self, now: datetime) -> None:
        self._seen = {key: until for key, until in self._seen.items() if until > now}
