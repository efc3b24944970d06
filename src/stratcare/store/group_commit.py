"""Group commit: the store writes of concurrent calls, committed together in one transaction.

Each hook call ends in one write unit: its token's ``jti`` (the replay check) and its rows (the call, its
assessments, cards, suggestions and queued write-backs). Committing each unit in a transaction of its own
costs every call the same round trips and statement overhead. ``GroupCommit`` (one per store, so one per
process) queues the units that arrive while a batch is being committed and commits them all in the next
batch, in one transaction with one multi-row statement per table. Nothing waits on a timer: a unit that
arrives at an idle store is written at once, and under load batches grow by themselves.

What each caller is promised is unchanged:

- ``write`` returns only once the unit's batch has committed (a call is answered only after its rows are
  durable); False means its ``jti`` had been used already and nothing of the unit was stored. Two units
  with the same ``jti`` in one batch are ordered as if written one after the other: the first wins.
- A batch that fails is rolled back and each of its units is written again in a transaction of its own,
  so one unit's bad row fails only its own caller. A failure while committing leaves the outcome unknown;
  the batch's callers then all get ``CommitUncertain`` and nothing is written again.
- A caller that stops waiting (its deadline passed) before its batch starts has its rows withdrawn; its
  ``jti`` is still recorded, so the token stays spent. Once the batch has started, the unit commits with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from stratcare.auth.replay import TokenUse
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.pathways.referral_tracking import ReferralStatus

logger = logging.getLogger(__name__)

MAX_BATCH = 64
"""Units per transaction at most: bounds a batch's statement size and its share of a failed batch."""

Row = dict[str, Any]


@dataclass(frozen=True)
class CallRows:
    """One hook call's rows; the assessments and cards get the call's id when it is inserted."""

    call: Row
    assessments: Sequence[Row] = ()
    cards: Sequence[Row] = ()
    suggestions: Sequence[Row] = ()
    outbox: Sequence[Row] = ()
    facts: HookCallFacts | None = None
    """The call as the report summary reads it (none: the call is not summarised)."""
    issued_cards: Sequence[IssuedCard] = ()
    referrals: Sequence[ReferralStatus] = ()
    """The statuses of stratcare's referrals the call saw (``referral_statuses``)."""


@dataclass(frozen=True)
class WriteUnit:
    """What one caller needs stored together: a token use, a call's rows, or both."""

    token: TokenUse | None = None
    rows: CallRows | None = None


class CommitUncertain(Exception):
    """The commit itself failed: the batch may or may not have been stored."""


class BatchWriter(Protocol):
    async def write(self, units: Sequence[WriteUnit]) -> list[bool]:
        """Store ``units`` in one transaction; per unit, False when its token was used before (then
        nothing of it is stored). Raises, with nothing stored, on failure; ``CommitUncertain`` when the
        failure came from the commit."""
        ...


@dataclass
class _Waiting:
    unit: WriteUnit
    orphan: bool = False
    """Nobody waits for it (its caller gave up): its outcome is only logged."""
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    """The store's write queue; create one per engine (see the module docstring)."""

    def __init__(self, writer: BatchWriter, *, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._writer = writer
        self._max_batch = max_batch
        self._queue: list[_Waiting] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0
        """Batches committed so far (for the benchmarks and tests)."""

    async def write(self, unit: WriteUnit) -> bool:
        """Store ``unit`` with whatever else is queued; True unless its token was used before."""
        if unit.token is None and unit.rows is None:
            return True
        waiting = _Waiting(unit)
        self._queue.append(waiting)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.get_running_loop().create_task(self._drain())
        return await waiting.done

    async def close(self) -> None:
        """Wait until every queued unit has been written."""
        while self._draining is not None and not self._draining.done():
            await asyncio.shield(self._draining)

    async def _drain(self) -> None:
        while self._queue:
            taken, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            batch = [ready for ready in map(_still_wanted, taken) if ready is not None]
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[_Waiting]) -> None:
        try:
            accepted = await self._writer.write([waiting.unit for waiting in batch])
        except CommitUncertain as uncertain:
            logger.error("store commit failed: the outcome of %d writes is unknown", len(batch))
            for waiting in batch:
                _fail(waiting, uncertain)
            return
        except Exception as error:
            if len(batch) == 1:
                _fail(batch[0], error)
                return
            logger.warning("a batch of %d store writes failed; writing each alone", len(batch))
            for waiting in batch:
                await self._commit([waiting])
            return
        self.batches += 1
        for waiting, first_use in zip(batch, accepted, strict=True):
            if not waiting.done.done():
                waiting.done.set_result(first_use)


def _still_wanted(waiting: _Waiting) -> _Waiting | None:
    """The unit as it is still to be written: a caller that stopped waiting keeps only its token use."""
    if not waiting.done.cancelled():
        return waiting
    if waiting.unit.token is None:
        return None
    return _Waiting(replace(waiting.unit, rows=None), orphan=True)


def _fail(waiting: _Waiting, error: Exception) -> None:
    if waiting.orphan:
        logger.error("a token use could not be recorded after its caller gave up", exc_info=error)
    elif not waiting.done.done():
        waiting.done.set_exception(error)
