"""The call's deadline covers recording it, and the caller's token use is recorded on every path."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from stratcare.api.runtime import load_content
from stratcare.auth.replay import TokenUse
from stratcare.cdshooks.models import HookRequest
from stratcare.demo.scenarios import load_scenarios
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.engine.runner import HookRunner
from stratcare.errors import InvalidHookRequest, PrefetchUnavailable, StoreUnavailable
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.settings import Settings
from stratcare.writeback.intake import HookWriteback
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.targets import WritebackTargets

SERVICE = "start-back-encounter-start"
NOW = datetime.now(UTC)
TOKEN = TokenUse("https://ehr.example.org", "jti-1", NOW + timedelta(minutes=5), NOW)
HANG_GUARD_SECONDS = 30
"""Only so that a regression fails instead of hanging the run; nothing is asserted about time."""


class SlowStore:
    """A recorder whose writes wait until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.recorded: list[tuple[HookCallFacts, TokenUse | None]] = []
        self.withdrawn = 0
        self.spent: list[TokenUse] = []

    async def record(
        self,
        call: HookCallFacts,
        assessments: Sequence[ScoringOutcome],  # noqa: ARG002
        cards: Sequence[IssuedCard],  # noqa: ARG002
        writes: Sequence[PendingWrite] = (),  # noqa: ARG002
        referrals: Sequence[ReferralStatus] = (),  # noqa: ARG002
        *,
        token: TokenUse | None = None,
    ) -> None:
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.withdrawn += 1
            raise
        self.recorded.append((call, token))

    async def spend(self, token: TokenUse) -> None:
        self.spent.append(token)


class HungReader:
    async def read(self, base_url: str, relative_url: str, token: SecretStr | None) -> None:  # noqa: ARG002
        await asyncio.Event().wait()

    async def read_url(self, url: str, token: SecretStr | None) -> None:  # noqa: ARG002
        await asyncio.Event().wait()


def runner(store: SlowStore, deadline: float = 0.05) -> HookRunner:
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", auth="off")
    _, registry, decider = load_content(settings)
    targets = WritebackTargets.from_settings(settings.writeback, settings.auth_settings())
    return HookRunner(
        registry=registry,
        decider=decider,
        reader=HungReader(),
        recorder=store,
        clock=lambda: NOW,
        new_uuid=uuid.uuid4,
        fhir_timeout_seconds=30,
        deadline_seconds=deadline,
        writeback=HookWriteback(targets),
    )


def request(name: str = "high-risk", **changes: Any) -> HookRequest:
    body = copy.deepcopy({s.name: s for s in load_scenarios()}[name].request)
    body.update(changes)
    return HookRequest.model_validate(body)


async def run(hooks: HookRunner, body: HookRequest, service: str = SERVICE) -> Any:
    call = hooks.run(service, body, endpoint_url=f"http://stratcare.test/cds-services/{service}", token=TOKEN)
    return await asyncio.wait_for(call, HANG_GUARD_SECONDS)


class TestStoreWithinTheDeadline:
    async def test_a_record_not_confirmed_in_time_is_a_503_and_is_withdrawn(self) -> None:
        store = SlowStore()
        with pytest.raises(StoreUnavailable):
            await run(runner(store), request())
        assert store.withdrawn == 1
        assert store.recorded == []

    async def test_a_confirmed_record_answers_with_cards(self) -> None:
        store = SlowStore()
        store.release.set()
        response = await run(runner(store, deadline=5), request())
        assert response.cards
        ((facts, token),) = store.recorded
        assert (facts.outcome, token) == ("cards", TOKEN)

    async def test_a_412_is_answered_in_time_and_its_record_kept(self) -> None:
        store = SlowStore()
        body = request(fhirServer="https://ehr.example.org/fhir")
        assert body.prefetch is not None
        del body.prefetch["conditions"]
        with pytest.raises(PrefetchUnavailable):
            await run(runner(store), body)
        assert store.withdrawn == 0
        store.release.set()
        for _ in range(10):
            await asyncio.sleep(0)
        ((facts, token),) = store.recorded
        assert (facts.outcome, token) == ("prefetch-unavailable", TOKEN)

    async def test_the_deadline_counts_from_arrival(self) -> None:
        store = SlowStore()
        store.release.set()
        hooks = runner(store, deadline=5)
        long_ago = asyncio.get_running_loop().time() - 10
        call = hooks.run(SERVICE, request(), endpoint_url="http://x/", token=TOKEN, arrived_at=long_ago)
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(call, HANG_GUARD_SECONDS)


class TestTokenUse:
    async def test_a_call_refused_before_recording_spends_its_token(self) -> None:
        store = SlowStore()
        with pytest.raises(InvalidHookRequest):
            await run(runner(store), request(hook="order-sign"))
        assert store.spent == [TOKEN]
        assert store.recorded == []
