"""The feedback ledger knows the suggestions of issued cards and stores each feedback item once."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from store.factories import NOW, SERVICE, call_facts, issued_card
from stratcare.cdshooks.models import FeedbackItem
from stratcare.engine.ports import CardOrigin, IssuedCard
from stratcare.store import SqlLedgers
from stratcare.store.schema import feedback

OTHER_SERVICE = "start-back-follow-up"


async def _issue(ledgers: SqlLedgers, *issued: IssuedCard, service_id: str = SERVICE) -> None:
    async with ledgers.hook_ledger() as ledger:
        await ledger.record(call_facts(service_id=service_id), [], list(issued))


async def _store(ledgers: SqlLedgers, *items: FeedbackItem) -> list[bool]:
    async with ledgers.feedback_ledger() as ledger:
        return await ledger.store(SERVICE, list(items), NOW)


def accepted(card: IssuedCard, *suggestions: UUID, at: Any = None) -> FeedbackItem:
    chosen = suggestions or tuple(suggestion.uuid for suggestion in card.card.suggestions or [])[:1]
    return FeedbackItem.model_validate(
        {
            "card": card.card.uuid,
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": str(uuid)} for uuid in chosen],
            "outcomeTimestamp": at or NOW.isoformat(),
        }
    )


def overridden(card: IssuedCard, code: str | None, comment: str | None = None) -> FeedbackItem:
    reason: dict[str, Any] = {}
    if code:
        reason["reason"] = {"system": "http://example.org/override", "code": code, "display": code}
    if comment:
        reason["userComment"] = comment
    body: dict[str, Any] = {"card": card.card.uuid, "outcome": "overridden", "outcomeTimestamp": NOW}
    if reason:
        body["overrideReason"] = reason
    return FeedbackItem.model_validate(body)


class TestOriginsOfCards:
    async def test_issued_cards_map_to_their_service_and_suggestions(self, ledgers: SqlLedgers) -> None:
        with_two, with_none = issued_card(suggestions=2), issued_card(suggestions=0)
        await _issue(ledgers, with_two, with_none)
        async with ledgers.feedback_ledger() as ledger:
            found = await ledger.origins_of_cards({with_two.card.uuid, with_none.card.uuid})
        offered = frozenset(suggestion.uuid for suggestion in with_two.card.suggestions or [])
        assert found == {
            with_two.card.uuid: CardOrigin(SERVICE, offered),
            with_none.card.uuid: CardOrigin(SERVICE, frozenset()),
        }

    async def test_other_services_cards_name_their_service_and_unknown_cards_are_absent(
        self, ledgers: SqlLedgers
    ) -> None:
        mine, theirs = issued_card(), issued_card()
        await _issue(ledgers, mine)
        await _issue(ledgers, theirs, service_id=OTHER_SERVICE)
        async with ledgers.feedback_ledger() as ledger:
            found = await ledger.origins_of_cards({mine.card.uuid, theirs.card.uuid, uuid4()})
            nothing = await ledger.origins_of_cards(set())
        assert {card: origin.service_id for card, origin in found.items()} == {
            mine.card.uuid: SERVICE,
            theirs.card.uuid: OTHER_SERVICE,
        }
        assert nothing == {}


class TestStore:
    async def test_the_same_item_twice_is_stored_once(self, ledgers: SqlLedgers) -> None:
        card = issued_card()
        await _issue(ledgers, card)
        assert await _store(ledgers, accepted(card), accepted(card)) == [True, False]
        assert await _store(ledgers, accepted(card)) == [False]

    async def test_the_same_instant_in_another_offset_is_the_same_item(self, ledgers: SqlLedgers) -> None:
        card = issued_card()
        await _issue(ledgers, card)
        elsewhere = NOW.astimezone(timezone(timedelta(hours=2))).isoformat()
        assert await _store(ledgers, accepted(card), accepted(card, at=elsewhere)) == [True, False]

    async def test_items_that_differ_are_each_stored(self, ledgers: SqlLedgers) -> None:
        card = issued_card(suggestions=2)
        first, second = (suggestion.uuid for suggestion in card.card.suggestions or [])
        await _issue(ledgers, card)
        later = (NOW + timedelta(seconds=1)).isoformat()
        items = [
            accepted(card, first),
            accepted(card, second),
            accepted(card, first, second),
            accepted(card, second, first),
            accepted(card, first, at=later),
            overridden(card, "not-relevant"),
            overridden(card, "patient-declined"),
            overridden(card, None),
        ]
        assert await _store(ledgers, *items) == [True, True, True, False, True, True, True, True]

    async def test_stored_columns_hold_the_coding_but_never_the_comment(self, ledgers: SqlLedgers) -> None:
        card = issued_card()
        await _issue(ledgers, card)
        comment = "Patient Jane Doe said she would rather not"
        assert await _store(ledgers, overridden(card, "patient-declined", comment)) == [True]
        assert await _store(ledgers, overridden(card, "patient-declined", "another comment")) == [False]
        async with ledgers.engine.connect() as connection:
            row = (await connection.execute(select(feedback))).mappings().one()
        assert (row["card_uuid"], row["service_id"]) == (card.card.uuid, SERVICE)
        assert row["outcome"] == "overridden"
        assert (row["override_reason_system"], row["override_reason_code"]) == (
            "http://example.org/override",
            "patient-declined",
        )
        assert row["accepted_suggestions"] == []
        assert row["outcome_timestamp"] == row["received_at"] == NOW
        assert all("Jane" not in str(value) for value in row.values())

    async def test_accepted_suggestions_are_stored_sorted(self, ledgers: SqlLedgers) -> None:
        card = issued_card(suggestions=2)
        uuids = [suggestion.uuid for suggestion in card.card.suggestions or []]
        await _issue(ledgers, card)
        await _store(ledgers, accepted(card, *reversed(sorted(uuids, key=str))))
        async with ledgers.engine.connect() as connection:
            stored = (await connection.execute(select(feedback.c.accepted_suggestions))).scalar_one()
        assert stored == sorted(str(uuid) for uuid in uuids)
