"""The capture page's use cases: open a screen from a launch, then accept a complete form exactly once.

Storage and signing come in as ports, the clock and ids as functions, so the rules are testable without a
server: which Questionnaire is offered (only an instrument the registry offers; an unavailable one, such as
STarT MSK without its licensed wording, is refused with the reason), that the server always checks
completeness, and that an accepted screen is recorded and queued for the EHR in one step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from stratcare.capture.answers import check_answers
from stratcare.capture.form import Form, FormItem, read_form
from stratcare.capture.response import RESPONSE_IDENTIFIER_SYSTEM, ResponseContext, build_response
from stratcare.capture.tickets import FORM_AUDIENCE, LINK_AUDIENCE, CaptureContext, Ticket, TicketSigner
from stratcare.capture.workflow import WorkflowPointCodes
from stratcare.instruments import InstrumentRegistry, InstrumentResult, card_lines
from stratcare.store.captures import CapturedScreen
from stratcare.writeback.outbox import PendingWrite
from stratcare.writeback.resources import transaction


class CaptureRefused(Exception):
    """The screen cannot be opened or accepted; the message says why, in words a patient or staff can use."""


class LinkSpender(Protocol):
    async def first_use(self, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool: ...


class CaptureLedger(Protocol):
    async def record(self, screen: CapturedScreen, write: PendingWrite, now: datetime) -> bool: ...


@dataclass(frozen=True)
class OpenScreen:
    form: Form
    ticket: str
    """The signed form ticket the page posts back with the answers."""
    context: CaptureContext


@dataclass(frozen=True)
class Incomplete:
    screen: OpenScreen
    answers: dict[str, str]
    unanswered: tuple[FormItem, ...]


@dataclass(frozen=True)
class Accepted:
    form: Form
    result: InstrumentResult | None
    lines: tuple[str, ...]
    first_time: bool


class CaptureService:
    def __init__(
        self,
        registry: InstrumentRegistry,
        points: WorkflowPointCodes,
        signer: TicketSigner,
        links: LinkSpender,
        ledger: CaptureLedger,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
        form_lifetime: timedelta,
        writes_to: Callable[[str], bool],
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._registry, self._points, self._signer = registry, points, signer
        self._links, self._ledger, self._clock, self._new_id = links, ledger, clock, new_id
        self._form_lifetime, self._on_queued = form_lifetime, on_queued
        self._writes_to = writes_to

    def issue_link(self, context: CaptureContext, lifetime: timedelta) -> str:
        return issue_link(self._registry, self._points, self._signer, context, lifetime, self._new_id())

    async def open_link(self, token: str) -> OpenScreen:
        ticket = self._signer.verify(LINK_AUDIENCE, token)
        if not await self._links.first_use(LINK_AUDIENCE, ticket.ticket_id, ticket.expires_at, self._clock()):
            raise CaptureRefused("this link has already been used; ask the staff for a new one")
        return self.open(ticket.context)

    def open(self, context: CaptureContext) -> OpenScreen:
        self._require_target(context)
        form = self._form_for(context.questionnaire)
        self._points.require((context.prompted, context.completed))
        ticket = self._signer.issue(FORM_AUDIENCE, context, str(self._new_id()), self._form_lifetime)
        return OpenScreen(form, ticket, context)

    def resume(self, token: str) -> tuple[Ticket, OpenScreen]:
        ticket = self._signer.verify(FORM_AUDIENCE, token)
        return ticket, OpenScreen(self._form_for(ticket.context.questionnaire), token, ticket.context)

    async def submit(self, token: str, submitted: Mapping[str, str]) -> Accepted | Incomplete:
        ticket, screen = self.resume(token)
        self._require_target(ticket.context)
        checked = check_answers(screen.form, submitted)
        if not checked.complete:
            return Incomplete(screen, {k: v.value for k, v in checked.answers.items()}, checked.unanswered)
        context, now = ticket.context, self._clock()
        points = self._points.points(context.prompted, context.completed)
        response = build_response(
            screen.form,
            dict(checked.answers),
            ResponseContext(ticket.ticket_id, context.patient_id, context.encounter_id, now, points),
        )
        result = self._score(screen.form, response, context.patient_id)
        first = await self._ledger.record(
            _screen(ticket, screen.form, now, result), _write(ticket, response), now
        )
        if first:
            self._on_queued()
        lines = tuple(card_lines(result)) if result is not None else ()
        return Accepted(screen.form, result, lines, first)

    def _require_target(self, context: CaptureContext) -> None:
        if not self._writes_to(context.fhir_server):
            raise CaptureRefused("this service is not configured to write to that record system")

    def _form_for(self, canonical: str) -> Form:
        return offered_form(self._registry, canonical)

    def _score(self, form: Form, response: dict[str, object], patient_id: str) -> InstrumentResult | None:
        instrument = self._registry.get(form.url)
        scored = instrument.score(response, patient_id) if instrument is not None else None
        return scored if isinstance(scored, InstrumentResult) else None


def offered_form(registry: InstrumentRegistry, canonical: str) -> Form:
    """The form of an instrument the registry offers; anything else is refused with the reason."""
    url, _, version = canonical.partition("|")
    instrument = registry.get(url)
    if instrument is None:
        missing = registry.unavailable.get(url)
        raise CaptureRefused(missing.reason if missing else "this questionnaire is not offered here")
    if version and version != instrument.definition.version:
        raise CaptureRefused(f"version {version} of this questionnaire is not offered here")
    return read_form(instrument.questionnaire)


def issue_link(
    registry: InstrumentRegistry,
    points: WorkflowPointCodes,
    signer: TicketSigner,
    context: CaptureContext,
    lifetime: timedelta,
    link_id: UUID,
) -> str:
    """A signed single-use link token for an offered Questionnaire and known workflow points."""
    offered_form(registry, context.questionnaire)
    points.require((context.prompted, context.completed))
    return signer.issue(LINK_AUDIENCE, context, str(link_id), lifetime)


def _screen(ticket: Ticket, form: Form, now: datetime, result: InstrumentResult | None) -> CapturedScreen:
    context = ticket.context
    return CapturedScreen(
        response_id=ticket.ticket_id,
        questionnaire=form.canonical,
        patient_id=context.patient_id,
        encounter_id=context.encounter_id,
        fhir_server=context.fhir_server,
        launch=context.launch,
        prompted_at_point=context.prompted,
        completed_at_point=context.completed,
        authored=now,
        risk_band=result.band.band.code if result is not None and result.band is not None else None,
    )


def _write(ticket: Ticket, response: dict[str, object]) -> PendingWrite:
    posted = {key: value for key, value in response.items() if key != "id"}  # the server assigns the id
    entry = {
        "fullUrl": f"urn:uuid:{ticket.ticket_id}",
        "resource": posted,
        "request": {
            "method": "POST",
            "url": "QuestionnaireResponse",
            "ifNoneExist": f"identifier={RESPONSE_IDENTIFIER_SYSTEM}|{ticket.ticket_id}",
        },
    }
    return PendingWrite(
        key=f"capture:{ticket.ticket_id}",
        hook_instance=UUID(ticket.ticket_id),
        fhir_server=ticket.context.fhir_server,
        bundle=transaction([entry]),
    )
