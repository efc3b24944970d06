"""The feedback ledger: which suggestions a card offered, and each feedback item stored once.

An item is "the same item" when its card, outcome, outcome timestamp (as an instant), accepted suggestions
and override reason coding are equal; a SHA-256 of those is the unique ``dedupe_key``. The user's free-text
``userComment`` is never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.cdshooks.models import FeedbackItem
from stratcare.engine.ports import CardOrigin
from stratcare.store import schema
from stratcare.store.database import insert_or_ignore
from stratcare.store.report_summary import NewFeedback, card_facts, summarise_feedback
from stratcare.store.schema import as_utc


class SqlFeedbackLedger:
    """Implements ``FeedbackLedger`` on a connection whose transaction the caller owns."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def origins_of_cards(self, cards: set[UUID]) -> dict[UUID, CardOrigin]:
        """For each of ``cards`` issued by any service here, its origin; unknown cards are absent."""
        if not cards:
            return {}
        issued, offered = schema.cards, schema.card_suggestions
        query = (
            select(issued.c.uuid, issued.c.service_id, offered.c.suggestion_uuid)
            .select_from(issued.outerjoin(offered, offered.c.card_uuid == issued.c.uuid))
            .where(issued.c.uuid.in_(cards))
        )
        services: dict[UUID, str] = {}
        suggestions: dict[UUID, set[UUID]] = {}
        for card_uuid, service_id, suggestion_uuid in await self._connection.execute(query):
            services[card_uuid] = service_id
            offered_by_card = suggestions.setdefault(card_uuid, set())
            if suggestion_uuid is not None:
                offered_by_card.add(suggestion_uuid)
        return {card: CardOrigin(service, frozenset(suggestions[card])) for card, service in services.items()}

    async def store(
        self, service_id: str, items: Sequence[FeedbackItem], received_at: datetime
    ) -> list[bool]:
        """Store each item unless already stored (earlier or earlier in ``items``); True where it was new.
        The new items are added to the report summary."""
        if not items:
            return []
        cards = await card_facts(self._connection, (item.card for item in items), lock=True)
        table = schema.feedback
        statement = insert_or_ignore(self._connection, table, ["dedupe_key"]).returning(table.c.id)
        new, stored = [], []
        for item in items:
            row = _feedback_row(service_id, item, received_at)
            result = await self._connection.execute(statement, row)
            new.append(result.first() is not None)
            if new[-1] and item.card in cards:
                stored.append(_summarised(row))
        if stored:
            await summarise_feedback(self._connection, cards, stored)
        return new


def _feedback_row(service_id: str, item: FeedbackItem, received_at: datetime) -> dict[str, Any]:
    accepted = sorted(str(suggestion.id) for suggestion in item.acceptedSuggestions or [])
    reason = item.overrideReason.reason if item.overrideReason else None
    row: dict[str, Any] = {
        "service_id": service_id,
        "card_uuid": item.card,
        "outcome": item.outcome,
        "outcome_timestamp": as_utc(item.outcomeTimestamp, "outcomeTimestamp"),
        "accepted_suggestions": accepted,
        "override_reason_system": reason.system if reason else None,
        "override_reason_code": reason.code if reason else None,
        "received_at": received_at,
    }
    row["dedupe_key"] = _dedupe_key(row)
    return row


def _summarised(row: dict[str, Any]) -> NewFeedback:
    return NewFeedback(
        card_uuid=row["card_uuid"],
        accepted=row["outcome"] == "accepted",
        reason_system=row["override_reason_system"],
        reason_code=row["override_reason_code"],
    )


def _dedupe_key(row: dict[str, Any]) -> str:
    identity = [
        row["service_id"],
        str(row["card_uuid"]),
        row["outcome"],
        row["outcome_timestamp"].isoformat(),
        row["accepted_suggestions"],
        row["override_reason_system"],
        row["override_reason_code"],
    ]
    return hashlib.sha256(json.dumps(identity, separators=(",", ":")).encode()).hexdigest()
