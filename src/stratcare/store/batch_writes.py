"""A batch of write units (``group_commit``) in one transaction: one multi-row Core statement per table.

Per batch, whatever its size: the ``jti`` upsert (``INSERT … ON CONFLICT DO UPDATE … WHERE`` the stored use
has expired, ``RETURNING`` the uses taken), then the accepted units' hook calls (``RETURNING id`` in
parameter order), assessments, queued write-backs, cards and suggestions. SQLAlchemy sends each multi-row
insert as one statement ("insertmanyvalues"). Expired token uses are purged now and then, in a batch's
transaction, never on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stratcare.auth.replay import TokenUse
from stratcare.store import schema
from stratcare.store.database import insert_or_ignore, insert_or_take_over, serialised_connection
from stratcare.store.group_commit import CallRows, CommitUncertain, Row, WriteUnit
from stratcare.store.referral_statuses import record_referral_statuses
from stratcare.store.report_summary import (
    ReportLabels,
    clinic_key,
    scored_screens,
    summarise_call,
    utc_day,
)
from stratcare.store.schema import as_utc

PURGE_INTERVAL = timedelta(minutes=5)


class CoreBatchWriter:
    """Implements ``BatchWriter`` with SQLAlchemy Core on any of the store's dialects."""

    def __init__(
        self,
        engine: AsyncEngine,
        purge_interval: timedelta = PURGE_INTERVAL,
        labels: ReportLabels | None = None,
    ) -> None:
        self._engine = engine
        self._labels = labels or ReportLabels()
        self._purge_interval = purge_interval
        self._last_purge: datetime | None = None

    async def write(self, units: Sequence[WriteUnit]) -> list[bool]:
        async with serialised_connection(self._engine) as connection:
            transaction = await connection.begin()
            try:
                accepted = await self._insert(connection, units)
            except BaseException:
                await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except Exception as error:
                raise CommitUncertain(f"commit failed: {type(error).__name__}") from error
        return accepted

    async def close(self) -> None:
        """Nothing to release: connections come from the engine's pool."""

    async def _insert(self, connection: AsyncConnection, units: Sequence[WriteUnit]) -> list[bool]:
        uses = [unit.token for unit in units if unit.token is not None]
        taken = await take_token_uses(connection, uses) if uses else set()
        accepted = first_uses(units, taken)
        stored = [unit.rows for unit, first in zip(units, accepted, strict=True) if first and unit.rows]
        await insert_calls(connection, stored, self._labels)
        if uses:
            await self._purge_if_due(connection, max(use.now for use in uses))
        return accepted

    async def _purge_if_due(self, connection: AsyncConnection, now: datetime) -> None:
        if self._last_purge is not None and now - self._last_purge < self._purge_interval:
            return
        await connection.execute(delete(schema.jwt_replay).where(schema.jwt_replay.c.expires_at <= now))
        self._last_purge = now


def first_uses(units: Sequence[WriteUnit], taken: set[tuple[str, str]]) -> list[bool]:
    """Per unit, whether it goes ahead: it has no token, or its token use was taken for it (of units
    presenting the same token in one batch, the first)."""
    accepted, claimed = [], set()
    for unit in units:
        key = (unit.token.issuer, unit.token.jti) if unit.token else None
        accepted.append(key is None or (key in taken and key not in claimed))
        claimed.add(key)
    return accepted


def token_rows(uses: Sequence[TokenUse]) -> list[Row]:
    """The ``jwt_replay`` rows to offer, each ``(issuer, jti)`` once (its first use in the batch)."""
    rows: dict[tuple[str, str], Row] = {}
    for use in uses:
        key = (use.issuer, use.jti)
        if key not in rows:
            rows[key] = {"issuer": use.issuer, "jti": use.jti, "expires_at": as_utc(use.expires_at)}
    return list(rows.values())


async def take_token_uses(connection: AsyncConnection, uses: Sequence[TokenUse]) -> set[tuple[str, str]]:
    """Record each ``(issuer, jti)`` not in use (or whose use expired); return those recorded."""
    now = as_utc(max(use.now for use in uses), "now")
    replay = schema.jwt_replay
    statement = insert_or_take_over(
        connection.dialect.name, replay, ["issuer", "jti"], taken_over_when=replay.c.expires_at <= now
    ).returning(replay.c.issuer, replay.c.jti)
    result = await connection.execute(statement, token_rows(uses))
    return {(issuer, jti) for issuer, jti in result}


async def insert_calls(
    connection: AsyncConnection, calls: Sequence[CallRows], labels: ReportLabels | None = None
) -> None:
    """Insert the calls and everything that belongs to them, one statement per table, then bring the
    report summary up to date with them (``report_summary``)."""
    if not calls:
        return
    calls_table = schema.hook_calls
    statement = insert(calls_table).returning(calls_table.c.id, sort_by_parameter_order=True)
    ids = (await connection.execute(statement, [rows.call for rows in calls])).scalars().all()
    assessments, cards = [], []
    for call_id, rows in zip(ids, calls, strict=True):
        assessments += [{**row, "hook_call_id": call_id} for row in rows.assessments]
        cards += [{**row, "hook_call_id": call_id} for row in rows.cards]
    assessment_ids: Sequence[int] = []
    if assessments:
        table = schema.assessments
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        assessment_ids = (await connection.execute(returning, assessments)).scalars().all()
    queued = [row for rows in calls for row in rows.outbox]
    if queued:
        queue = insert_or_ignore(connection, schema.outbox, ["fhir_server", "key"])
        await connection.execute(queue, queued)
    await _insert(connection, schema.cards, cards)
    await _insert(connection, schema.card_suggestions, [row for rows in calls for row in rows.suggestions])
    await _summarise(connection, calls, ids, assessments, assessment_ids, labels or ReportLabels())


async def _summarise(
    connection: AsyncConnection,
    calls: Sequence[CallRows],
    call_ids: Sequence[int],
    assessments: Sequence[Row],
    assessment_ids: Sequence[int],
    labels: ReportLabels,
) -> None:
    """The report summary rows of a batch's calls. Lock order, as ``report_summary`` asks: every
    referral status first (they update earlier days), then the calls' own days."""
    by_call: dict[int, tuple[list[Row], list[int]]] = {}
    for row, assessment_id in zip(assessments, assessment_ids, strict=True):
        stored_rows, found = by_call.setdefault(row["hook_call_id"], ([], []))
        stored_rows.append(row)
        found.append(assessment_id)
    summarised = [(call_id, call) for call_id, call in zip(call_ids, calls, strict=True) if call.facts]
    for _, call in summarised:
        if call.referrals and call.facts:
            await record_referral_statuses(connection, call.facts, call.referrals)
    for call_id, call in sorted(summarised, key=lambda item: _day_key(item[1])):
        assert call.facts is not None
        stored, stored_ids = by_call.get(call_id, ([], []))
        screens = scored_screens(stored, stored_ids)
        await summarise_call(
            connection, labels, call.facts, call_id, screens, call.issued_cards, bool(call.assessments)
        )


def _day_key(rows: CallRows) -> tuple[str, str, str]:
    facts = rows.facts
    assert facts is not None
    return (clinic_key(facts.clinic), utc_day(facts.received_at).isoformat(), facts.patient_id)


async def _insert(connection: AsyncConnection, table: Table, rows: list[Row]) -> None:
    if rows:
        await connection.execute(insert(table), rows)
