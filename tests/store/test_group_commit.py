"""Group commit: concurrent calls' writes share one transaction, each caller keeping its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from store.factories import NOW, call_facts, issued_card, pending_write, start_back_score
from stratcare.auth.errors import TokenAlreadyUsed
from stratcare.auth.replay import TokenUse
from stratcare.store import SqlLedgers
from stratcare.store.calls import call_rows
from stratcare.store.group_commit import CommitUncertain, GroupCommit, WriteUnit
from stratcare.store.schema import assessments, card_suggestions, cards, hook_calls, jwt_replay, outbox

ISSUER = "https://ehr.example.org"


def use(jti: str) -> TokenUse:
    return TokenUse(ISSUER, jti, NOW + timedelta(minutes=5), NOW)


async def count(ledgers: SqlLedgers, table: Table) -> int:
    async with ledgers.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def record(ledgers: SqlLedgers, jti: str | None, *, key: str | None = None) -> None:
    """One hook call as the engine records it: a score, a card with two suggestions, a queued write."""
    writes = [pending_write(key or str(uuid4()))]
    await ledgers.hook_recorder().record(
        call_facts(), [start_back_score()], [issued_card()], writes, token=use(jti) if jti else None
    )


class TestBatches:
    async def test_concurrent_calls_are_all_stored_in_one_transaction(self, ledgers: SqlLedgers) -> None:
        await asyncio.gather(*(record(ledgers, f"jti-{n}") for n in range(10)))
        assert ledgers.writes.batches == 1
        for table, rows in ((hook_calls, 10), (assessments, 10), (cards, 10), (card_suggestions, 20)):
            assert await count(ledgers, table) == rows, table.name
        assert await count(ledgers, outbox) == 10
        assert await count(ledgers, jwt_replay) == 10

    async def test_each_call_keeps_its_own_rows(self, ledgers: SqlLedgers) -> None:
        calls = [call_facts() for _ in range(3)]
        recorder = ledgers.hook_recorder()
        cards_of = [issued_card() for _ in calls]
        await asyncio.gather(
            *(
                recorder.record(c, [start_back_score()], [card])
                for c, card in zip(calls, cards_of, strict=True)
            )
        )
        query = select(hook_calls.c.hook_instance, cards.c.uuid).join(
            cards, cards.c.hook_call_id == hook_calls.c.id
        )
        async with ledgers.engine.connect() as connection:
            pairs = {(row[0], row[1]) for row in await connection.execute(query)}
        assert pairs == {(c.hook_instance, card.card.uuid) for c, card in zip(calls, cards_of, strict=True)}

    async def test_a_lone_call_is_written_at_once(self, ledgers: SqlLedgers) -> None:
        await record(ledgers, "jti-1")
        assert ledgers.writes.batches == 1
        assert await count(ledgers, hook_calls) == 1


class TestReplay:
    async def test_a_replay_inside_one_batch_is_refused_and_stores_nothing(self, ledgers: SqlLedgers) -> None:
        outcomes = await asyncio.gather(
            record(ledgers, "same"), record(ledgers, "same"), record(ledgers, "other"), return_exceptions=True
        )
        assert ledgers.writes.batches == 1
        assert outcomes[0] is None
        assert outcomes[2] is None
        assert isinstance(outcomes[1], TokenAlreadyUsed)
        assert await count(ledgers, hook_calls) == 2
        assert await count(ledgers, cards) == 2

    async def test_a_replay_of_an_earlier_batch_is_refused(self, ledgers: SqlLedgers) -> None:
        await record(ledgers, "once")
        with pytest.raises(TokenAlreadyUsed):
            await record(ledgers, "once")
        assert await count(ledgers, hook_calls) == 1

    async def test_token_checks_and_calls_share_batches(self, ledgers: SqlLedgers) -> None:
        guard = ledgers.replay_guard()
        first, _, second = await asyncio.gather(
            guard.first_use(ISSUER, "shared", NOW + timedelta(minutes=5), NOW),
            record(ledgers, "call"),
            guard.first_use(ISSUER, "shared", NOW + timedelta(minutes=5), NOW),
        )
        assert (first, second) == (True, False)
        assert ledgers.writes.batches == 1

    async def test_a_spent_token_alone_is_refused_afterwards(self, ledgers: SqlLedgers) -> None:
        await ledgers.hook_recorder().spend(use("spent"))
        with pytest.raises(TokenAlreadyUsed):
            await record(ledgers, "spent")
        assert await count(ledgers, hook_calls) == 0


class TestFailures:
    async def test_a_failed_batch_fails_only_the_caller_at_fault(self, ledgers: SqlLedgers) -> None:
        taken = issued_card()
        recorder = ledgers.hook_recorder()
        await recorder.record(call_facts(), [], [taken])
        outcomes = await asyncio.gather(
            record(ledgers, "a"),
            recorder.record(call_facts(), [], [taken], token=use("dup")),  # the card's uuid is taken
            record(ledgers, "b"),
            return_exceptions=True,
        )
        assert outcomes[0] is None
        assert outcomes[2] is None
        assert isinstance(outcomes[1], IntegrityError)
        assert await count(ledgers, hook_calls) == 3
        # The failed call's token use went with its rows: the token may be presented again.
        assert await ledgers.replay_guard().first_use(ISSUER, "dup", NOW + timedelta(minutes=5), NOW)

    async def test_a_write_after_a_failure_is_stored(self, ledgers: SqlLedgers) -> None:
        taken = issued_card()
        recorder = ledgers.hook_recorder()
        await recorder.record(call_facts(), [], [taken])
        with pytest.raises(IntegrityError):
            await recorder.record(call_facts(), [], [taken])
        await record(ledgers, "after")
        assert await count(ledgers, hook_calls) == 2


class Blocking:
    """A writer whose first batch waits until released; records the units of every batch."""

    def __init__(self, error: Exception | None = None) -> None:
        self.release = asyncio.Event()
        self.batches: list[list[WriteUnit]] = []
        self._error = error

    async def write(self, units: Sequence[WriteUnit]) -> list[bool]:
        self.batches.append(list(units))
        await self.release.wait()
        if self._error is not None:
            raise self._error
        return [True] * len(units)


def unit(jti: str | None) -> WriteUnit:
    rows = call_rows(call_facts(), [], [issued_card()])
    return WriteUnit(token=use(jti) if jti else None, rows=rows)


class TestQueue:
    async def test_writes_arriving_during_a_commit_go_in_the_next_batch(self) -> None:
        writer = Blocking()
        group = GroupCommit(writer)
        first = asyncio.ensure_future(group.write(unit("1")))
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(group.write(unit(str(n)))) for n in range(2, 6)]
        await asyncio.sleep(0)
        assert not first.done()  # not answered before its batch commits
        writer.release.set()
        assert await asyncio.gather(first, *later) == [True] * 5
        assert [len(batch) for batch in writer.batches] == [1, 4]

    async def test_a_caller_that_gave_up_before_its_batch_keeps_only_its_token_use(self) -> None:
        writer = Blocking()
        group = GroupCommit(writer)
        first = asyncio.ensure_future(group.write(unit("1")))
        await asyncio.sleep(0)
        abandoned = asyncio.ensure_future(group.write(unit("late")))
        no_token = asyncio.ensure_future(group.write(unit(None)))
        await asyncio.sleep(0)
        abandoned.cancel()
        no_token.cancel()
        writer.release.set()
        await first
        await group.close()
        (second_batch,) = writer.batches[1:]
        assert [(u.token.jti if u.token else None, u.rows) for u in second_batch] == [("late", None)]

    async def test_an_uncertain_commit_fails_every_caller_of_the_batch_once(self) -> None:
        writer = Blocking(CommitUncertain("commit failed"))
        group = GroupCommit(writer)
        writes = [asyncio.ensure_future(group.write(unit(str(n)))) for n in range(3)]
        writer.release.set()
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        assert all(isinstance(outcome, CommitUncertain) for outcome in outcomes)
        assert len(writer.batches) == 1  # nothing is written again: it may be stored already

    async def test_a_failed_batch_is_retried_unit_by_unit(self) -> None:
        writer = Blocking(RuntimeError("store down"))
        group = GroupCommit(writer)
        writes = [asyncio.ensure_future(group.write(unit(str(n)))) for n in range(3)]
        writer.release.set()
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
        assert [len(batch) for batch in writer.batches] == [3, 1, 1, 1]
