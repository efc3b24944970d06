"""Referral statuses read back on hooks: the newest status of each card's ServiceRequest, and whether a
hook ever saw it signed (which marks the card's patient day signed in the report summary)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.engine.ports import HookCallFacts
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.store import schema
from stratcare.store.report_summary import card_facts, mark_signed

statuses = schema.referral_statuses


def _earliest(new: ColumnElement[Any], old: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((old.is_(None), new), (new.is_(None), old), (new < old, new), else_=old)


async def record_referral_statuses(
    connection: AsyncConnection, call: HookCallFacts, seen: Sequence[ReferralStatus]
) -> None:
    """Keep what ``call`` saw of its patient's referrals; statuses of unknown cards, or of cards issued
    for another patient, are ignored."""
    cards = await card_facts(connection, (status.card_uuid for status in seen))
    known = [s for s in seen if s.card_uuid in cards and cards[s.card_uuid].patient_id == call.patient_id]
    if not known:
        return
    builder = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = builder(statuses)
    new = statement.excluded
    newer = new.observed_at >= statuses.c.observed_at
    upsert = statement.on_conflict_do_update(
        index_elements=["card_uuid"],
        set_={
            "status": case((newer, new.status), else_=statuses.c.status),
            "observed_at": case((newer, new.observed_at), else_=statuses.c.observed_at),
            "signed_at": _earliest(new.signed_at, statuses.c.signed_at),
        },
    )
    rows = [
        {
            "card_uuid": status.card_uuid,
            "status": status.status,
            "observed_at": call.received_at,
            "signed_at": call.received_at if status.signed else None,
        }
        for status in known
    ]
    await connection.execute(upsert, rows)
    await mark_signed(connection, [cards[status.card_uuid] for status in known if status.signed])
