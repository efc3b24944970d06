"""Runs one hook call: check it fits the service, complete the prefetch, decide, record, answer."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from stratcare.cdshooks.context import HookContext, parse_context
from stratcare.cdshooks.models import HookRequest, HookResponse
from stratcare.cdshooks.prefetch import resolve_prefetch
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.engine.ports import (
    ClinicianSupport,
    HookCallFacts,
    HookLedger,
    IssuedCard,
    NoClinicianSupport,
)
from stratcare.engine.record import PatientRecord, build_record
from stratcare.errors import InvalidHookRequest, Issue, PrefetchUnavailable
from stratcare.fhir.client import FhirReader
from stratcare.instruments.results import ScoringOutcome
from stratcare.log_context import serving_hook_call
from stratcare.pathways.subsumption import KnownSubsumptions
from stratcare.writeback.intake import HookWriteback, LentToken, WritebackPlan

logger = logging.getLogger(__name__)
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Decision:
    cards: list[IssuedCard]
    assessments: list[ScoringOutcome]


class Decider(Protocol):
    async def consult_terminology(self, service: CdsService, record: PatientRecord) -> KnownSubsumptions:
        """Hierarchy answers for the record's codes, time-bounded; never raises for a server's sake."""
        ...

    def decide(
        self,
        service: CdsService,
        context: HookContext,
        record: PatientRecord,
        now: datetime,
        new_uuid: Callable[[], UUID],
        answers: KnownSubsumptions,
    ) -> Decision: ...


class HookRunner:
    def __init__(
        self,
        *,
        registry: ServiceRegistry,
        decider: Decider,
        reader: FhirReader,
        unit_of_work: Callable[[], AbstractAsyncContextManager[HookLedger]],
        clock: Callable[[], datetime],
        new_uuid: Callable[[], UUID],
        fhir_timeout_seconds: float,
        writeback: HookWriteback,
        clinic_of: Callable[[JsonObject | None], str | None] = lambda _encounter: None,
        support: ClinicianSupport | None = None,
    ) -> None:
        self._registry = registry
        self._decider = decider
        self._reader = reader
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._new_uuid = new_uuid
        self._timeout = fhir_timeout_seconds
        self._writeback = writeback
        self._clinic_of = clinic_of
        self._support = support or NoClinicianSupport()

    async def run(self, service_id: str, request: HookRequest, *, endpoint_url: str) -> HookResponse:
        with serving_hook_call(request.hookInstance):
            return await self._run(service_id, request, endpoint_url)

    async def _run(self, service_id: str, request: HookRequest, endpoint_url: str) -> HookResponse:
        service = self._registry.get(service_id)
        if request.hook != service.hook:
            raise InvalidHookRequest(
                f"service {service_id!r} answers the {service.hook!r} hook, not {request.hook!r}",
                [Issue(code="invalid", diagnostics=f"hook must be {service.hook!r}", expression=("hook",))],
            )
        if request.fhirAuthorization is not None and request.fhirServer is None:
            raise InvalidHookRequest(
                "fhirAuthorization was given without fhirServer",
                [
                    Issue(
                        code="invalid",
                        diagnostics="fhirAuthorization requires fhirServer",
                        expression=("fhirServer",),
                    )
                ],
            )
        context = parse_context(request.hook, request.context)
        received_at = self._clock()
        try:
            prefetch = await resolve_prefetch(service.prefetch, request, self._reader, self._timeout)
        except PrefetchUnavailable:
            facts = _facts(service, request, context, received_at, "prefetch-unavailable")
            await self._record(facts, None, WritebackPlan())
            raise
        record = build_record(prefetch.values, context.patientId, context.encounterId)
        for reason, count in Counter(record.ignored).items():
            logger.info(
                "prefetch resource ignored",
                extra={"hookInstance": str(request.hookInstance), "reason": reason, "count": count},
            )
        # The pure decision never waits on a terminology server: its answers are gathered first.
        answers = await self._decider.consult_terminology(service, record)
        decision = self._decider.decide(service, context, record, received_at, self._new_uuid, answers)
        clinic = self._clinic_of(record.encounter)
        supported = await self._support.annotate(clinic, context.userId, received_at, decision.cards)
        decision = replace(decision, cards=supported)
        outcome = "cards" if decision.cards else "no-cards"
        plan = self._plan_writeback(request, context, decision)
        facts = replace(_facts(service, request, context, received_at, outcome), clinic=clinic)
        await self._record(facts, decision, plan)
        self._writeback.committed(plan)
        logger.info(
            "hook answered",
            extra={
                "hookInstance": str(request.hookInstance),
                "service": service.id,
                "cards": len(decision.cards),
                "fetched": list(prefetch.fetched),
                "endpoint": endpoint_url,
                "queuedWrites": len(plan.queued),
            },
        )
        return HookResponse(
            cards=[issued.card for issued in decision.cards],
            systemActions=plan.system_actions or None,
        )

    def _plan_writeback(
        self, request: HookRequest, context: HookContext, decision: Decision
    ) -> WritebackPlan:
        lent = request.fhirAuthorization
        return self._writeback.plan(
            hook_instance=request.hookInstance,
            patient_id=context.patientId,
            encounter_id=context.encounterId,
            fhir_server=str(request.fhirServer) if request.fhirServer else None,
            token=LentToken(lent.access_token, lent.expires_in) if lent else None,
            assessments=decision.assessments,
        )

    async def _record(self, facts: HookCallFacts, decision: Decision | None, plan: WritebackPlan) -> None:
        async with self._unit_of_work() as ledger:
            await ledger.record(
                facts,
                decision.assessments if decision else [],
                decision.cards if decision else [],
                plan.queued,
            )


def _facts(
    service: CdsService, request: HookRequest, context: HookContext, received_at: datetime, outcome: str
) -> HookCallFacts:
    return HookCallFacts(
        hook_instance=request.hookInstance,
        service_id=service.id,
        hook=request.hook,
        patient_id=context.patientId,
        encounter_id=context.encounterId,
        user_id=context.userId,
        fhir_server=str(request.fhirServer) if request.fhirServer else None,
        received_at=received_at,
        outcome=outcome,
    )
