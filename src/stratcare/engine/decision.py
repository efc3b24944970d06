"""The decision for one hook call, pure: score the newest screens, apply the pathway, build the cards.

Only the newest response to each instrument counts. When it cannot be scored (in progress, incomplete,
invalid), the pathway is told so and no risk is shown: an older screen is never used silently in its
place, because it may describe an earlier episode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from stratcare.cdshooks.context import HookContext
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.newest import newest_by_questionnaire
from stratcare.engine.ports import IssuedCard
from stratcare.engine.record import PatientRecord
from stratcare.engine.runner import Decision
from stratcare.engine.workflow import WorkflowPoints, workflow_facts
from stratcare.instruments.catalog import (
    NIH_SCREEN_URL,
    START_BACK_URL,
    InstrumentCatalog,
)
from stratcare.instruments.results import (
    NihScreenResult,
    ResponseRejected,
    ScoringOutcome,
    StartBackScore,
)
from stratcare.json_types import JsonObject
from stratcare.pathways import Pathway, PathwayInputs, load_pathway
from stratcare.pathways.cards import build_card
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions


class StratifiedCareDecider:
    def __init__(
        self,
        pathways: Mapping[str, Pathway],
        instruments: InstrumentCatalog,
        hierarchy: HierarchyLookup | None = None,
        workflow_points: WorkflowPoints | None = None,
    ) -> None:
        self._pathways = pathways
        self._instruments = instruments
        self._hierarchy = hierarchy
        self._workflow_points = workflow_points

    @classmethod
    def from_content(
        cls, content: ContentRepository, registry: ServiceRegistry, hierarchy: HierarchyLookup | None = None
    ) -> StratifiedCareDecider:
        pathways = {
            service.planDefinition: load_pathway(content, service.planDefinition)
            for service in registry.all()
            if service.decision == "stratified-care"
        }
        catalog = InstrumentCatalog.from_content(content)
        return cls(pathways, catalog, hierarchy, WorkflowPoints.from_content(content))

    async def consult_terminology(self, service: CdsService, record: PatientRecord) -> KnownSubsumptions:
        """The terminology server's answers about this record's codes (none without a server)."""
        if self._hierarchy is None:
            return NO_ANSWERS
        questions = self._pathways[service.planDefinition].hierarchy_questions(record.conditions)
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
        newest = newest_by_questionnaire(record.questionnaire_responses)
        start_back = self._score(newest.get(START_BACK_URL), context.patientId)
        nih = self._score(newest.get(NIH_SCREEN_URL), context.patientId)
        points = self._workflow_points
        workflow = workflow_facts(context, service.hook, record, points) if points else None
        inputs = PathwayInputs(
            patient_id=context.patientId,
            encounter_id=context.encounterId,
            now=now,
            start_back=start_back if isinstance(start_back, StartBackScore | ResponseRejected) else None,
            nih=nih if isinstance(nih, NihScreenResult | ResponseRejected) else None,
            patient=record.patient,
            encounter=record.encounter,
            conditions=tuple(record.conditions),
            service_requests=tuple(record.service_requests),
            hierarchy_answers=answers,
            workflow=workflow,
        )
        # Risk scores and draft orders are for clinicians to act on: a patient or relative viewing the
        # record (patient-view in a portal) gets no cards; the screens are still scored and recorded.
        applied_actions = pathway.evaluate(inputs) if context.user_is_clinician else []
        cards = [
            IssuedCard(
                card=build_card(applied, inputs, pathway.definition, new_uuid),
                pathway_action=applied.spec.id,
                risk_group=applied.risk.value if applied.risk else None,
                referral_suggested=applied.proposed_request is not None,
                workflow_point=workflow.workflow_point if workflow else None,
            )
            for applied in applied_actions
        ]
        assessments = [outcome for outcome in (start_back, nih) if outcome is not None]
        return Decision(cards=cards, assessments=assessments)

    def _score(self, response: JsonObject | None, patient_id: str) -> ScoringOutcome | None:
        if response is None:
            return None
        return self._instruments.score(response, patient_id)
