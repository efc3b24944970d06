"""The hook ledger: a hook call, its assessments, cards, queued write-backs and the referral statuses it
saw, with the report summary of them, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.store import schema
from stratcare.store.database import insert_or_ignore
from stratcare.store.referral_statuses import record_referral_statuses
from stratcare.store.report_summary import (
    SCREEN_COLUMNS,
    ReportLabels,
    ScoredScreen,
    screen_value,
    summarise_call,
)
from stratcare.writeback.outbox import OutboxState, PendingWrite


class SqlHookLedger:
    """Implements ``HookLedger`` on a connection whose transaction the caller owns."""

    def __init__(self, connection: AsyncConnection, labels: ReportLabels | None = None) -> None:
        self._connection = connection
        self._labels = labels or ReportLabels()

    async def record(
        self,
        call: HookCallFacts,
        assessments: Sequence[ScoringOutcome],
        cards: Sequence[IssuedCard],
        writes: Sequence[PendingWrite] = (),
        referrals: Sequence[ReferralStatus] = (),
    ) -> None:
        """Store the call, its assessments, its cards and its queued writes (one already queued for the same
        server is skipped), the referral statuses it saw, and the report summary of all of it."""
        statement = insert(schema.hook_calls).values(_call_row(call)).returning(schema.hook_calls.c.id)
        call_id: int = (await self._connection.execute(statement)).scalar_one()
        screens: list[ScoredScreen] = []
        if assessments:
            rows = [_assessment_row(call_id, item) for item in assessments]
            table = schema.assessments
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids = (await self._connection.execute(returning, rows)).scalars().all()
            screens = scored_screens(rows, ids)
        if writes:
            if any(write.fhir_server is None for write in writes):
                raise ValueError("a queued write must name its target server")
            queue = insert_or_ignore(self._connection, schema.outbox, ["fhir_server", "key"])
            await self._connection.execute(queue, [_outbox_row(call, write) for write in writes])
        if cards:
            await self._insert(schema.cards, [_card_row(call_id, call.service_id, item) for item in cards])
            suggestions = [row for item in cards for row in _suggestion_rows(item)]
            if suggestions:
                await self._insert(schema.card_suggestions, suggestions)
        if referrals:
            # Before this call's own patient day: earlier days first (see ``report_summary``'s lock order).
            await record_referral_statuses(self._connection, call, referrals)
        await summarise_call(self._connection, self._labels, call, call_id, screens, cards, bool(assessments))

    async def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        await self._connection.execute(insert(table), rows)


def _call_row(call: HookCallFacts) -> dict[str, Any]:
    return {
        "hook_instance": call.hook_instance,
        "service_id": call.service_id,
        "hook": call.hook,
        "patient_id": call.patient_id,
        "encounter_id": call.encounter_id,
        "user_id": call.user_id,
        "fhir_server": call.fhir_server,
        "received_at": call.received_at,
        "outcome": call.outcome,
        "clinic": call.clinic,
        "workflow_point": call.workflow_point,
    }


def _assessment_row(call_id: int, outcome: ScoringOutcome) -> dict[str, Any]:
    row: dict[str, Any] = {
        "hook_call_id": call_id,
        "instrument_version": None,
        "risk_group": None,
        "band": None,
        "scores": None,
        "answers": None,
        "flags": None,
        "rejection_reasons": None,
        **_source_columns(outcome.source),
    }
    if isinstance(outcome, ResponseRejected):
        row.update(kind="rejected", instrument=outcome.instrument, rejection_reasons=list(outcome.reasons))
        return row
    band = outcome.band
    row.update(
        kind="scored",
        instrument_version=outcome.version,
        risk_group=band.alias if band else None,
        band=band.band.code if band else None,
        scores=dict(outcome.scores),
        answers=dict(outcome.answers),
        flags=list(outcome.flags),
    )
    return row


def scored_screens(rows: Sequence[dict[str, Any]], ids: Sequence[int]) -> list[ScoredScreen]:
    """The stored assessments the report summary keeps: scored, authored, with a risk group or a
    pain-duration band."""
    screens = []
    for row, assessment_id in zip(rows, ids, strict=True):
        if row["kind"] != "scored" or row["authored"] is None:
            continue
        for fact, column in SCREEN_COLUMNS.items():
            if screen_value(fact, row[column]):
                screens.append(ScoredScreen(fact, assessment_id, row[column], row["authored"]))
    return screens


def _source_columns(source: ResponseSource) -> dict[str, Any]:
    return {
        "instrument": source.questionnaire.split("|", 1)[0],
        "questionnaire": source.questionnaire,
        "response_id": source.response_id,
        "response_version": source.version_id,
        "authored": source.authored,
    }


def _card_row(call_id: int, service_id: str, issued: IssuedCard) -> dict[str, Any]:
    return {
        "uuid": issued.card.uuid,
        "hook_call_id": call_id,
        "service_id": service_id,
        "pathway_action": issued.pathway_action,
        "indicator": issued.card.indicator,
        "summary": issued.card.summary,
        "risk_group": issued.risk_group,
        "referral_suggested": issued.referral_suggested,
        "workflow_point": issued.workflow_point,
    }


def _suggestion_rows(issued: IssuedCard) -> list[dict[str, Any]]:
    return [
        {"card_uuid": issued.card.uuid, "suggestion_uuid": suggestion.uuid, "label": suggestion.label}
        for suggestion in issued.card.suggestions or []
    ]


def _outbox_row(call: HookCallFacts, write: PendingWrite) -> dict[str, Any]:
    return {
        "key": write.key,
        "hook_instance": write.hook_instance,
        "fhir_server": write.fhir_server,
        "bundle": write.bundle,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": call.received_at,
        "created_at": call.received_at,
        "updated_at": call.received_at,
    }
