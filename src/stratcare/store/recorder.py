"""The hook engine's recorder: each call's rows and its token use, queued for the next group commit."""

from __future__ import annotations

from collections.abc import Sequence

from stratcare.auth.errors import TokenAlreadyUsed
from stratcare.auth.replay import TokenUse
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.store.calls import call_rows
from stratcare.store.group_commit import GroupCommit, WriteUnit
from stratcare.writeback.outbox import PendingWrite


class SqlHookRecorder:
    """Implements ``HookRecorder`` through the store's ``GroupCommit``."""

    def __init__(self, writes: GroupCommit) -> None:
        self._writes = writes

    async def record(
        self,
        call: HookCallFacts,
        assessments: Sequence[ScoringOutcome],
        cards: Sequence[IssuedCard],
        writes: Sequence[PendingWrite] = (),
        referrals: Sequence[ReferralStatus] = (),
        *,
        token: TokenUse | None = None,
    ) -> None:
        rows = call_rows(call, assessments, cards, writes, referrals)
        if not await self._writes.write(WriteUnit(token=token, rows=rows)):
            raise TokenAlreadyUsed()

    async def spend(self, token: TokenUse) -> None:
        if not await self._writes.write(WriteUnit(token=token)):
            raise TokenAlreadyUsed()
