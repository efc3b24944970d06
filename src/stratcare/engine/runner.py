"""Runs one hook call: check it fits the service, complete the prefetch, decide, record, answer.

One deadline bounds the whole call, from when the request arrived: the prefetch and terminology lookups
get it less the share kept for recording the call (``STORE_SHARE``), and the answer waits for the
record's commit only until the deadline. A call whose record is not confirmed in time is answered 503
(its rows are withdrawn if they were not yet being written; its token stays spent); a call answered 412
keeps its record, written after the answer if need be.

The caller's token use (``token``) is recorded with the call, in the same transaction; a call that ends
with an error before anything is recorded records the token use alone, before it is answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from stratcare.auth.errors import Unauthorized
from stratcare.auth.replay import TokenUse
from stratcare.cdshooks.context import HookContext, parse_context
from stratcare.cdshooks.models import HookRequest, HookResponse
from stratcare.cdshooks.prefetch import PrefetchLimits, resolve_prefetch
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.engine.ports import (
    ClinicianSupport,
    HookCallFacts,
    HookRecorder,
    IssuedCard,
    NoClinicianSupport,
)
from stratcare.engine.record import PatientRecord, build_record
from stratcare.errors import InvalidHookRequest, Issue, PrefetchUnavailable, StoreUnavailable
from stratcare.fhir.client import FhirReader
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.json_types import JsonObject
from stratcare.log_context import serving_hook_call
from stratcare.pathways.referral_tracking import ReferralStatus, referral_statuses
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.writeback.intake import HookWriteback, LentToken, WritebackPlan

logger = logging.getLogger(__name__)

STORE_SHARE = 0.2
"""The share of a call's deadline kept for recording it; the prefetch and terminology get the rest."""


@dataclass(frozen=True)
class Decision:
    cards: list[IssuedCard]
    assessments: list[ScoringOutcome]
    workflow_point: str | None = None
    """Where in the visit the call ran (CodeSystem workflow-point), when the decision read it."""


class Decider(Protocol):
    async def consult_terminology(
        self, service: CdsService, context: HookContext, record: PatientRecord
    ) -> KnownSubsumptions:
        """Hierarchy answers for the codes of the record and the call's draft orders, time-bounded; never
        raises for a server's sake."""
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
        recorder: HookRecorder,
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
        self._recorder = recorder
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
        self,
        service_id: str,
        request: HookRequest,
        *,
        endpoint_url: str,
        issuer: str | None = None,
        token: TokenUse | None = None,
        arrived_at: float | None = None,
    ) -> HookResponse:
        """Answer one hook call; ``issuer`` is the verified caller (None with authentication off), ``token``
        its token use still to be recorded, ``arrived_at`` when the request arrived (the event loop's
        clock; default now)."""
        started = asyncio.get_running_loop().time() if arrived_at is None else arrived_at
        call = _Call(request, endpoint_url, issuer, token, started + self._deadline)
        with serving_hook_call(request.hookInstance):
            try:
                return await self._run(service_id, call)
            except (PrefetchUnavailable, StoreUnavailable, Unauthorized):
                raise  # the token use went with the record (or was withdrawn with it, still recorded)
            except BaseException:
                if token is not None:
                    await self._recorder.spend(token)
                raise

    async def _run(self, service_id: str, call: _Call) -> HookResponse:
        request, endpoint_url, issuer = call.request, call.endpoint_url, call.issuer
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
        lookups_until = call.deadline - self._deadline * STORE_SHARE
        try:
            prefetch = await resolve_prefetch(
                service.prefetch, request, self._reader, self._limits_until(lookups_until)
            )
            record = build_record(prefetch.values, context.patientId, context.encounterId)
        except PrefetchUnavailable:
            facts = _facts(service, request, context, received_at, "prefetch-unavailable")
            # The 412 does not depend on the record: past the deadline it is written after the answer.
            await self._record(call, facts, None, WritebackPlan(), keep_if_late=True)
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
        answers = await self._terminology_answers(service, context, record, lookups_until)
        decision = self._decider.decide(service, context, record, received_at, self._new_uuid, answers)
        clinic = self._clinic_of(record.encounter)
        supported = await self._support.annotate(clinic, context.userId, received_at, decision.cards)
        decision = replace(decision, cards=supported)
        outcome = "cards" if decision.cards else "no-cards"
        plan = self._plan_writeback(request, context, decision, issuer)
        facts = replace(
            _facts(service, request, context, received_at, outcome),
            clinic=clinic,
            workflow_point=decision.workflow_point,
        )
        referrals = referral_statuses(record.service_requests)
        await self._record(call, facts, decision, plan, keep_if_late=False, referrals=referrals)
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
        self, service: CdsService, context: HookContext, record: PatientRecord, deadline: float
    ) -> KnownSubsumptions:
        """The terminology answers gathered before ``deadline``; past it, none (the shipped expansions)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await self._decider.consult_terminology(service, context, record)
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

    def _limits_until(self, deadline: float) -> PrefetchLimits:
        remaining = deadline - asyncio.get_running_loop().time()
        return replace(self._limits, timeout_seconds=max(0.001, min(self._limits.timeout_seconds, remaining)))

    async def _record(
        self,
        call: _Call,
        facts: HookCallFacts,
        decision: Decision | None,
        plan: WritebackPlan,
        *,
        keep_if_late: bool,
        referrals: Sequence[ReferralStatus] = (),
    ) -> None:
        """Record the call with its token use, waiting at most until the call's deadline."""
        recording = self._recorder.record(
            facts,
            decision.assessments if decision else [],
            decision.cards if decision else [],
            plan.queued,
            referrals,
            token=call.token,
        )
        task = asyncio.ensure_future(recording)
        try:
            async with asyncio.timeout_at(call.deadline):
                # Shielded: when the deadline passes, the record carries on and is withdrawn (or kept) here.
                await asyncio.shield(task)
        except TimeoutError:
            if keep_if_late:
                task.add_done_callback(_log_late_record)
                return
            task.cancel()
            logger.warning("the call's record was not confirmed within its deadline")
            raise StoreUnavailable("the call could not be recorded within its deadline") from None


@dataclass(frozen=True)
class _Call:
    request: HookRequest
    endpoint_url: str
    issuer: str | None
    token: TokenUse | None
    deadline: float
    """The event loop's time by which the call must be answered."""


def _log_late_record(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("a late call record failed", exc_info=task.exception())


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
