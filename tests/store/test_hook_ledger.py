"""The hook ledger stores a call with its assessments, cards and queued writes, all or nothing."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from store.factories import (
    NIH,
    NOW,
    SERVICE,
    START_BACK,
    call_facts,
    issued_card,
    nih_result,
    pending_write,
    rejected,
    start_back_score,
)
from stratcare.store import SqlLedgers
from stratcare.store.schema import assessments, card_suggestions, cards, hook_calls, outbox
from stratcare.writeback.outbox import PendingWrite

EHR_A, EHR_B = "https://a.example.org/fhir", "https://b.example.org/fhir"


async def _count(ledgers: SqlLedgers, table: Table) -> int:
    async with ledgers.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def _record_then_fail(ledgers: SqlLedgers) -> None:
    async with ledgers.hook_ledger() as ledger:
        await ledger.record(call_facts(), [start_back_score()], [issued_card()], [pending_write("k")])
        raise RuntimeError("boom")


class TestRecord:
    async def test_the_call_is_read_back_field_by_field(self, ledgers: SqlLedgers) -> None:
        call = call_facts()
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call, [], [])
        async with ledgers.engine.connect() as connection:
            row = (await connection.execute(select(hook_calls))).mappings().one()
        assert row["hook_instance"] == call.hook_instance
        assert (row["service_id"], row["hook"], row["outcome"]) == (SERVICE, "encounter-start", "cards")
        assert (row["patient_id"], row["encounter_id"]) == ("pat-1", "enc-1")
        assert row["user_id"] == "Practitioner/doc-1"
        assert row["fhir_server"] == "https://ehr.example.org/fhir"
        assert row["received_at"] == NOW
        assert row["received_at"].utcoffset() is not None

    async def test_each_kind_of_assessment_is_read_back(self, ledgers: SqlLedgers) -> None:
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [start_back_score(), nih_result(), rejected()], [])
        async with ledgers.engine.connect() as connection:
            rows = (await connection.execute(select(assessments).order_by(assessments.c.id))).mappings().all()
        scored, nih, refused = rows
        assert scored["kind"] == "scored"
        assert (scored["instrument"], scored["questionnaire"]) == (START_BACK, f"{START_BACK}|1.0")
        assert (scored["response_id"], scored["response_version"]) == ("qr-sb", "2")
        assert scored["scores"] == {"total": 6, "psychosocial": 4}
        assert (scored["band"], scored["risk_group"], scored["flags"]) == ("high-risk", "high", [])
        assert scored["answers"] == {"sb-1": "yes"}
        assert (nih["instrument"], nih["instrument_version"]) == (NIH, "2014")
        assert nih["answers"] == {"nih-duration": "gt-6-months", "nih-frequency": "every-day"}
        assert (nih["band"], nih["risk_group"], nih["scores"]) == ("chronic", None, {})
        assert refused["kind"] == "rejected"
        assert refused["rejection_reasons"] == ["item 3 unanswered", "status is in-progress"]
        assert (refused["band"], refused["scores"], refused["flags"]) == (None, None, None)
        assert scored["hook_call_id"] == nih["hook_call_id"] == refused["hook_call_id"]

    async def test_cards_and_their_suggestions_are_read_back(self, ledgers: SqlLedgers) -> None:
        issued = issued_card(suggestions=2)
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [issued, issued_card(suggestions=0, risk_group=None)])
        async with ledgers.engine.connect() as connection:
            rows = (await connection.execute(select(cards).order_by(cards.c.id))).mappings().all()
            offered = (await connection.execute(select(card_suggestions))).mappings().all()
        first, second = rows
        assert first["uuid"] == issued.card.uuid
        assert (first["service_id"], first["pathway_action"], first["indicator"]) == (
            SERVICE,
            "high-risk",
            "warning",
        )
        assert (first["summary"], first["risk_group"], first["referral_suggested"]) == (
            issued.card.summary,
            "high",
            True,
        )
        assert second["risk_group"] is None
        assert {(row["card_uuid"], row["suggestion_uuid"]) for row in offered} == {
            (issued.card.uuid, suggestion.uuid) for suggestion in issued.card.suggestions or []
        }

    async def test_a_retried_hook_instance_is_kept_as_another_call(self, ledgers: SqlLedgers) -> None:
        call = call_facts()
        for _ in range(2):
            async with ledgers.hook_ledger() as ledger:
                await ledger.record(call, [start_back_score()], [issued_card()])
        assert await _count(ledgers, hook_calls) == 2
        assert await _count(ledgers, cards) == 2


class TestTransaction:
    async def test_a_failure_after_record_stores_nothing(self, ledgers: SqlLedgers) -> None:
        with pytest.raises(RuntimeError, match="boom"):
            await _record_then_fail(ledgers)
        for table in (hook_calls, assessments, cards, card_suggestions, outbox):
            assert await _count(ledgers, table) == 0

    async def test_a_failure_inside_record_stores_not_even_the_write(self, ledgers: SqlLedgers) -> None:
        issued = issued_card()
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [issued])
        with pytest.raises(IntegrityError):
            async with ledgers.hook_ledger() as ledger:
                # The same card uuid again violates a unique constraint after the write was queued.
                await ledger.record(call_facts(), [start_back_score()], [issued], [pending_write("k")])
        assert await _count(ledgers, hook_calls) == 1
        assert await _count(ledgers, assessments) == 0
        assert await _count(ledgers, outbox) == 0


class TestQueuedWrites:
    async def test_a_write_is_queued_pending_and_due_at_once(self, ledgers: SqlLedgers) -> None:
        write = pending_write("QuestionnaireResponse/qr-sb/_history/2")
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [start_back_score()], [], [write])
        async with ledgers.engine.connect() as connection:
            row = (await connection.execute(select(outbox))).mappings().one()
        assert (row["key"], row["hook_instance"]) == (write.key, write.hook_instance)
        assert row["fhir_server"] == write.fhir_server
        assert row["bundle"] == write.bundle
        assert (row["state"], row["attempts"]) == ("pending", 0)
        assert row["created_at"] == row["next_attempt_at"] == NOW

    async def test_a_key_already_queued_is_not_queued_again(self, ledgers: SqlLedgers) -> None:
        first = pending_write("same-key")
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [], [first])
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [], [pending_write("same-key"), pending_write("other")])
        async with ledgers.engine.connect() as connection:
            rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
        assert [row["key"] for row in rows] == ["same-key", "other"]
        assert rows[0]["hook_instance"] == first.hook_instance
        assert await _count(ledgers, hook_calls) == 2

    async def test_the_same_key_is_queued_once_per_server(self, ledgers: SqlLedgers) -> None:
        """A write pending for one server never stops the same results from being queued for another."""
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [], [pending_write("same-key", fhir_server=EHR_A)])
        async with ledgers.hook_ledger() as ledger:
            again = [
                pending_write("same-key", fhir_server=EHR_A),
                pending_write("same-key", fhir_server=EHR_B),
            ]
            await ledger.record(call_facts(), [], [], again)
        async with ledgers.engine.connect() as connection:
            rows = (await connection.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
        assert [(row["fhir_server"], row["key"]) for row in rows] == [
            (EHR_A, "same-key"),
            (EHR_B, "same-key"),
        ]

    async def test_a_write_without_a_server_is_refused(self, ledgers: SqlLedgers) -> None:
        write = PendingWrite("k", uuid4(), None, {"resourceType": "Bundle", "type": "transaction"})
        with pytest.raises(ValueError, match="must name its target server"):
            async with ledgers.hook_ledger() as ledger:
                await ledger.record(call_facts(), [], [], [write])
        assert await _count(ledgers, hook_calls) == 0

    async def test_a_key_repeated_in_one_call_is_queued_once(self, ledgers: SqlLedgers) -> None:
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [], [pending_write("twice"), pending_write("twice")])
        assert await _count(ledgers, outbox) == 1
