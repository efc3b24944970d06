"""The decision for one hook call, pure: score the newest screens, apply the pathway, build the cards.

Each service names the instruments it scores (its descriptor's ``instruments``); the decider scores the
newest response to each through the instrument registry and hands the pathway a mapping by instrument key.
Only the newest response to each instrument counts. When it cannot be scored (in progress, incomplete,
invalid, a licensed tool whose wording is not supplied), the pathway is told so and no risk is shown: an
older screen is never used silently in its place, because it may describe an earlier episode. An
instrument the service scores that is not offered here (its licensed wording is not supplied) reaches the
pathway as ``%unavailable`` with the reason, so its card can say so. A critical
flag raised by a current screen (PHQ-9 item 9) gets its own card first, whatever the pathway says
(``pathways.flag_cards``). Nothing here names an instrument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from stratcare.cdshooks.context import HookContext
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.newest import newest_by_questionnaire
from stratcare.engine.ports import IssuedCard
from stratcare.engine.record import PatientRecord
from stratcare.engine.runner import Decision
from stratcare.engine.workflow import WorkflowPoints, patient_draft_orders, workflow_facts
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import ScoringOutcome
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.pathways import Pathway, PathwayInputs, load_pathway
from stratcare.pathways.cards import build_card
from stratcare.pathways.flag_cards import critical_flag_cards
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions


@dataclass(frozen=True)
class ScoredInstrument:
    """One instrument a service scores: its Questionnaire url and content."""

    url: str
    definition: InstrumentDefinition

    @property
    def key(self) -> str:
        return self.definition.key


def service_instruments(service: CdsService, registry: InstrumentRegistry) -> list[ScoredInstrument]:
    """The instruments a service's descriptor names, in its order; raise ValueError for an unknown one."""
    found: list[ScoredInstrument] = []
    for canonical in service.instruments:
        url = canonical.split("|", 1)[0]
        instrument = registry.get(url)
        unavailable = registry.unavailable.get(url)
        definition = instrument.definition if instrument else unavailable.definition if unavailable else None
        if definition is None:
            raise ValueError(f"service {service.id!r} scores {url!r}, which no Questionnaire declares")
        found.append(ScoredInstrument(url, definition))
    return found


class StratifiedCareDecider:
    def __init__(
        self,
        pathways: Mapping[str, Pathway],
        instruments: InstrumentRegistry,
        scored: Mapping[str, list[ScoredInstrument]],
        hierarchy: HierarchyLookup | None = None,
        workflow_points: WorkflowPoints | None = None,
        capture_launch_url: str | None = None,
    ) -> None:
        self._pathways = pathways
        self._instruments = instruments
        self._scored = scored
        self._hierarchy = hierarchy
        self._workflow_points = workflow_points
        self._capture_launch_url = capture_launch_url
        """The capture page's SMART launch URL: cards asking for a screen link it (none: no link)."""

    @classmethod
    def from_content(
        cls,
        content: ContentRepository,
        registry: ServiceRegistry,
        hierarchy: HierarchyLookup | None = None,
        licensed_dir: Path | None = None,
        capture_launch_url: str | None = None,
    ) -> StratifiedCareDecider:
        pathways = {
            service.planDefinition: load_pathway(content, service.planDefinition)
            for service in registry.all()
            if service.decision == "stratified-care"
        }
        instruments = InstrumentRegistry.from_content(content, licensed_dir=licensed_dir)
        scored = {service.id: service_instruments(service, instruments) for service in registry.all()}
        points = WorkflowPoints.from_content(content)
        return cls(pathways, instruments, scored, hierarchy, points, capture_launch_url)

    async def consult_terminology(
        self, service: CdsService, context: HookContext, record: PatientRecord
    ) -> KnownSubsumptions:
        """The terminology server's answers about the codes of this record's Conditions and of the call's
        draft orders (none without a server)."""
        if self._hierarchy is None:
            return NO_ANSWERS
        pathway = self._pathways[service.planDefinition]
        questions = pathway.hierarchy_questions(record.conditions, patient_draft_orders(context))
        return await self._hierarchy.answer(questions) if questions else NO_ANSWERS

    def decide(
        self,
        service: CdsService,
        context: HookContext,
        record: PatientRecord,
        now: datetime,
        new_uuid: Callable[[], UUID],
        answers: KnownSubsumptions = NO_ANSWERS,
    ) -> Decision:
        pathway = self._pathways[service.planDefinition]
        scored = self._scored.get(service.id) or service_instruments(service, self._instruments)
        newest = newest_by_questionnaire(record.questionnaire_responses)
        results: dict[str, ScoringOutcome] = {}
        for instrument in scored:
            response = newest.get(instrument.url)
            if response is not None:
                results[instrument.key] = self._instruments.score(response, context.patientId)
        unavailable = {
            instrument.key: missing.reason
            for instrument in scored
            if (missing := self._instruments.unavailable.get(instrument.url)) is not None
        }
        points = self._workflow_points
        workflow = workflow_facts(context, service.hook, record, points) if points else None
        inputs = PathwayInputs(
            patient_id=context.patientId,
            encounter_id=context.encounterId,
            now=now,
            results=results,
            instruments={instrument.key: instrument.definition for instrument in scored},
            patient=record.patient,
            encounter=record.encounter,
            conditions=tuple(record.conditions),
            service_requests=tuple(record.service_requests),
            tasks=tuple(record.tasks),
            unavailable=unavailable,
            hierarchy_answers=answers,
            workflow=workflow,
        )
        # Risk scores and draft orders are for clinicians to act on: a patient or relative viewing the
        # record (patient-view in a portal) gets no cards; the screens are still scored and recorded.
        clinician = context.user_is_clinician
        applied_actions = pathway.evaluate(inputs) if clinician else []
        flagged = critical_flag_cards(inputs, pathway.definition, new_uuid) if clinician else []
        cards = [
            IssuedCard(
                card=flag.card,
                pathway_action=f"flag:{flag.instrument}:{flag.flag}",
                risk_group=None,
                referral_suggested=False,
            )
            for flag in flagged
        ] + [
            IssuedCard(
                card=build_card(applied, inputs, pathway.definition, new_uuid, self._capture_launch_url),
                pathway_action=applied.spec.id,
                risk_group=applied.risk.value if applied.risk else None,
                # A screening order (its ActivityDefinition names the Questionnaire to collect) is the
                # clinic's own request to the patient, not a referral to another service.
                referral_suggested=applied.proposed_request is not None and applied.spec.screen is None,
                workflow_point=workflow.workflow_point if workflow else None,
            )
            for applied in applied_actions
        ]
        point = workflow.workflow_point if workflow else None
        return Decision(cards=cards, assessments=list(results.values()), workflow_point=point)
