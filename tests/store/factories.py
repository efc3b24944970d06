"""Hook calls, assessments, cards and writes as the engine hands them to the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from uuid import UUID, uuid4

from stratcare.cdshooks.models import Card, Source, Suggestion
from stratcare.content import ContentRepository
from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.writeback.outbox import PendingWrite

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
SERVICE = "start-back-encounter-start"
START_BACK = "http://example.org/fhir/Questionnaire/start-back"
NIH = "http://example.org/fhir/Questionnaire/nih-screen"


def call_facts(
    *, hook_instance: UUID | None = None, received_at: datetime = NOW, service_id: str = SERVICE
) -> HookCallFacts:
    return HookCallFacts(
        hook_instance=hook_instance or uuid4(),
        service_id=service_id,
        hook="encounter-start",
        patient_id="pat-1",
        encounter_id="enc-1",
        user_id="Practitioner/doc-1",
        fhir_server="https://ehr.example.org/fhir",
        received_at=received_at,
        outcome="cards",
    )


def source(response_id: str, questionnaire: str) -> ResponseSource:
    return ResponseSource(
        response_id=response_id,
        version_id="2",
        questionnaire=questionnaire,
        authored=datetime(2025, 3, 4, 8, 0, tzinfo=UTC),
    )


@cache
def definition(key: str, version: str) -> InstrumentDefinition:
    instrument = InstrumentRegistry.from_content(ContentRepository.load()).by_key(key)
    assert instrument is not None
    return replace(instrument.definition, version=version)


def start_back_score() -> InstrumentResult:
    content = definition("startBack", "1.0")
    return InstrumentResult(
        definition=content,
        source=source("qr-sb", f"{START_BACK}|1.0"),
        answers={"sb-1": "yes"},
        scores={"total": 6, "psychosocial": 4},
        band=content.band("high-risk"),
        flags=(),
    )


def nih_result() -> InstrumentResult:
    content = definition("nih", "2014")
    return InstrumentResult(
        definition=content,
        source=source("qr-nih", NIH),
        answers={"nih-duration": "gt-6-months", "nih-frequency": "every-day"},
        scores={},
        band=content.band("chronic"),
        flags=(),
    )


def rejected() -> ResponseRejected:
    return ResponseRejected(
        source=source("qr-bad", START_BACK),
        instrument=START_BACK,
        reasons=("item 3 unanswered", "status is in-progress"),
    )


def issued_card(*, suggestions: int = 2, risk_group: str | None = "high") -> IssuedCard:
    card = Card(
        uuid=uuid4(),
        summary="High risk of persistent disabling back pain",
        indicator="warning",
        source=Source(label="STarT Back"),
        suggestions=[Suggestion(label=f"Option {n}", uuid=uuid4()) for n in range(suggestions)] or None,
    )
    return IssuedCard(card=card, pathway_action="high-risk", risk_group=risk_group, referral_suggested=True)


def pending_write(
    key: str, *, hook_instance: UUID | None = None, fhir_server: str = "https://ehr.example.org/fhir"
) -> PendingWrite:
    return PendingWrite(
        key=key,
        hook_instance=hook_instance or uuid4(),
        fhir_server=fhir_server,
        bundle={"resourceType": "Bundle", "type": "transaction", "id": key},
    )
