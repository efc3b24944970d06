from __future__ import annotations

from datetime import timedelta

from auth.tokens import NOW
from stratcare.auth import InMemoryReplayGuard, ReplayGuard

LATER = NOW + timedelta(minutes=5)


class TestInMemoryReplayGuard:
    async def test_first_use_only(self) -> None:
        guard: ReplayGuard = InMemoryReplayGuard()
        assert await guard.first_use("iss", "a", LATER, NOW)
        assert not await guard.first_use("iss", "a", LATER, NOW + timedelta(minutes=4))

    async def test_ids_are_per_issuer(self) -> None:
        guard = InMemoryReplayGuard()
        assert await guard.first_use("iss-1", "a", LATER, NOW)
        assert await guard.first_use("iss-2", "a", LATER, NOW)

    async def test_forgotten_after_expiry(self) -> None:
        guard = InMemoryReplayGuard()
        assert await guard.first_use("iss", "a", LATER, NOW)
        assert await guard.first_use("iss", "a", LATER + timedelta(minutes=5), LATER + timedelta(seconds=1))

    async def test_full_memory_forgets_expired_ids_but_never_live_ones(self) -> None:
        guard = InMemoryReplayGuard(max_entries=2)
        assert await guard.first_use("iss", "a", NOW + timedelta(seconds=10), NOW)
        assert await guard.first_use("iss", "b", LATER, NOW)
        assert not await guard.first_use("iss", "c", LATER, NOW)
        assert await guard.first_use("iss", "c", LATER, NOW + timedelta(seconds=11))
        assert not await guard.first_use("iss", "b", LATER, NOW + timedelta(seconds=11))
