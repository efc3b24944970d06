"""Runs one hook call: check it fits the service, complete the prefetch, decide, record, answer."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from stratcare.cdshooks.context import HookContext, parse_context
from stratcare.cdshooks.models import HookRequest, HookResponse
from stratcare.cdshooks.prefetch import PrefetchLimits, resolve_prefetch
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
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.json_types import JsonObject
from stratcare.log_context import serving_hook_call
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.writeback.intake import HookWriteback, LentToken, WritebackPlan

logger = logging.getLogger(__name__)


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
        fhir_max_pages: int = 10,
        clinic_of: Callable[[JsonObject | None], str | None] = lambda _encounter: None,
        support: ClinicianSupport | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        self._registry = registry
        self._decider = decider
        self._reader = reader
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._new_uuid = new_uuid
        self._deadline = fhir_timeout_seconds if deadline_seconds is None else deadline_seconds
        self._limits = PrefetchLimits(
            timeout_seconds=min(fhir_timeout_seconds, self._deadline), max_pages=fhir_max_pages
        )
        self._writeback = writeback
        self._clinic_of = clinic_of
        self._support = support or NoClinicianSupport()

    async def run(
        self, service_id: str, request: HookRequest, *, endpoint_url: str, issuer: str | None = None
    ) -> HookResponse:
        """Answer one hook call; ``issuer`` is the verified caller (None with authentication off)."""
        with serving_hook_call(request.hookInstance):
            return await self._run(service_id, request, endpoint_url, issuer)

    async def _run(
        self, service_id: str, request: HookRequest, endpoint_url: str, issuer: str | None
    ) -> HookResponse:
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
        _check_token_patient(request, context)
        received_at = self._clock()
        # One deadline for the whole call: the prefetch gets its budget within it, the terminology lookup
        # whatever the prefetch left.
        deadline = asyncio.get_running_loop().time() + self._deadline
        try:
            prefetch = await resolve_prefetch(service.prefetch, request, self._reader, self._limits)
            record = build_record(prefetch.values, context.patientId, context.encounterId)
        except PrefetchUnavailable:
            facts = _facts(service, request, context, received_at, "prefetch-unavailable")
            await self._record(facts, None, WritebackPlan())
            raise
        if logger.isEnabledFor(logging.INFO):  # the extras cost a little on every call
            for key, why in prefetch.refused.items():
                logger.info(
                    "prefetch value refused and fetched",
                    extra={"hookInstance": str(request.hookInstance), "key": key, "reason": why},
                )
            for reason, count in Counter(record.ignored).items():
                logger.info(
                    "prefetch resource ignored",
                    extra={"hookInstance": str(request.hookInstance), "reason": reason, "count": count},
                )
        # The pure decision never waits on a terminology server: its answers are gathered first.
        answers = await self._terminology_answers(service, record, deadline)
        decision = self._decider.decide(service, context, record, received_at, self._new_uuid, answers)
        clinic = self._clinic_of(record.encounter)
        supported = await self._support.annotate(clinic, context.userId, received_at, decision.cards)
        decision = replace(decision, cards=supported)
        outcome = "cards" if decision.cards else "no-cards"
        plan = self._plan_writeback(request, context, decision, issuer)
        facts = replace(_facts(service, request, context, received_at, outcome), clinic=clinic)
        await self._record(facts, decision, plan)
        self._writeback.committed(plan)
        if logger.isEnabledFor(logging.INFO):
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

    async def _terminology_answers(
        self, service: CdsService, record: PatientRecord, deadline: float
    ) -> KnownSubsumptions:
        """The terminology answers gathered before ``deadline``; past it, none (the shipped expansions)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await self._decider.consult_terminology(service, record)
        except TimeoutError:
            logger.warning("terminology lookup cut off by the call's deadline; shipped expansions used")
            return NO_ANSWERS

    def _plan_writeback(
        self, request: HookRequest, context: HookContext, decision: Decision, issuer: str | None
    ) -> WritebackPlan:
        lent = request.fhirAuthorization
        return self._writeback.plan(
            hook_instance=request.hookInstance,
            patient_id=context.patientId,
            encounter_id=context.encounterId,
            fhir_server=str(request.fhirServer) if request.fhirServer else None,
            issuer=issuer,
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


def _check_token_patient(request: HookRequest, context: HookContext) -> None:
    """A token lent for one patient (``fhirAuthorization.patient``) must be for the patient in context."""
    lent = request.fhirAuthorization
    if lent is not None and lent.patient is not None and lent.patient != context.patientId:
        raise InvalidHookRequest(
            "fhirAuthorization.patient is not the patient in context",
            [
                Issue(
                    code="invalid",
                    diagnostics="fhirAuthorization.patient differs from context.patientId",
                    expression=("fhirAuthorization.patient",),
                )
            ],
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
