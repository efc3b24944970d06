"""The hook ledger: a hook call, its assessments, cards, queued write-backs and the referral statuses it
saw, with the report summary of them, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.pathways.referral_tracking import ReferralStatus
from stratcare.store.batch_writes import insert_calls
from stratcare.store.group_commit import CallRows
from stratcare.store.report_summary import ReportLabels
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
        rows = call_rows(call, assessments, cards, writes, referrals)
        await insert_calls(self._connection, [rows], self._labels)


def call_rows(
    call: HookCallFacts,
    assessments: Sequence[ScoringOutcome],
    cards: Sequence[IssuedCard],
    writes: Sequence[PendingWrite] = (),
    referrals: Sequence[ReferralStatus] = (),
) -> CallRows:
    """The rows of one hook call (the call's id is given to its assessments and cards on insert), with
    what the report summary needs of it."""
    if any(write.fhir_server is None for write in writes):
        raise ValueError("a queued write must name its target server")
    return CallRows(
        call=_call_row(call),
        assessments=[_without_call_id(_assessment_row(0, item)) for item in assessments],
        cards=[_without_call_id(_card_row(0, call.service_id, item)) for item in cards],
        suggestions=[row for item in cards for row in _suggestion_rows(item)],
        outbox=[_outbox_row(call, write) for write in writes],
        facts=call,
        issued_cards=tuple(cards),
        referrals=tuple(referrals),
    )


def _without_call_id(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("hook_call_id")
    return row


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
