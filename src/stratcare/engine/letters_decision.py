"""The decision of the spine letter services: draft a letter when the call is about a spine clinic
consultation for back pain, say why not when a red flag is active, and link the clinic's training.

appointment-book drafts the pre-consultation letter; encounter-discharge the post-consultation letter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from uuid import UUID

from stratcare.cdshooks.context import HookContext
from stratcare.cdshooks.models import Card
from stratcare.cdshooks.services import CdsService, ServiceRegistry
from stratcare.content import ContentRepository
from stratcare.engine.hierarchy import HierarchyLookup
from stratcare.engine.ports import IssuedCard
from stratcare.engine.record import PatientRecord, referenced_patient_id
from stratcare.engine.runner import Decision
from stratcare.instruments import InstrumentRegistry
from stratcare.json_types import JsonObject
from stratcare.letters import (
    ClinicLetterContent,
    ConsultationRecord,
    LetterRenderingError,
    LetterTemplateError,
    LetterTemplates,
    RejectedLanguage,
    SpineClinicCodes,
    post_consultation_letter,
    pre_consultation_letter,
)
from stratcare.letters.cards import clinician_resources_card, draft_letter_card, no_letter_card
from stratcare.letters.drafting import PostConsultationDraft, post_consultation_draft, pre_consultation_draft
from stratcare.letters.post_consultation import general_practitioner
from stratcare.letters.questionnaire_impact import questionnaire_impact
from stratcare.pathways.subsumption import NO_ANSWERS, KnownSubsumptions
from stratcare.pathways.terminology import Terminology

LETTERS_DECISION = "spine-letters"
LETTER_HOOKS = ("appointment-book", "encounter-discharge")
# Appointment.status values of an appointment that is (being) booked (FHIR R4 appointmentstatus).
BOOKED_STATUSES = frozenset({"proposed", "pending", "booked"})


class SpineLettersDecider:
    def __init__(
        self,
        clinics: Mapping[str, ClinicLetterContent],
        codes: SpineClinicCodes,
        templates: LetterTemplates,
        instruments: InstrumentRegistry,
        hierarchy: HierarchyLookup | None = None,
    ) -> None:
        self._hierarchy = hierarchy
        self._clinics = clinics
        self._codes = codes
        self._templates = templates
        self._instruments = instruments

    @classmethod
    def from_content(
        cls,
        content: ContentRepository,
        registry: ServiceRegistry,
        clinic_templates: Path | None = None,
        hierarchy: HierarchyLookup | None = None,
    ) -> SpineLettersDecider:
        clinics = {}
        for service in registry.all():
            if service.decision != LETTERS_DECISION:
                continue
            if service.hook not in LETTER_HOOKS:
                raise ValueError(
                    f"service {service.id!r}: spine letters answer only {', '.join(LETTER_HOOKS)}"
                )
            clinics[service.planDefinition] = ClinicLetterContent.from_content(
                content, service.planDefinition
            )
        templates = LetterTemplates.for_clinic(content.root, clinic_templates)
        if clinics:
            templates.check()
        return cls(
            clinics,
            SpineClinicCodes(Terminology(content)),
            templates,
            InstrumentRegistry.from_content(content),
            hierarchy,
        )

    async def consult_terminology(
        self,
        service: CdsService,
        context: HookContext,  # noqa: ARG002 - letters read no draft orders
        record: PatientRecord,
    ) -> KnownSubsumptions:
        """The terminology server's answers on whether the record's Conditions are red flags."""
        if self._hierarchy is None or service.hook != "encounter-discharge":
            return NO_ANSWERS
        questions = self._codes.red_flag_questions(record.conditions)
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
        # Drafts are for clinicians to review: a patient booking in a portal gets no cards.
        if not context.user_is_clinician:
            return Decision(cards=[], assessments=[])
        clinic = self._clinics[service.planDefinition]
        if service.hook == "appointment-book":
            cards = self._pre_consultation(clinic, context, record, now, new_uuid)
        else:
            cards = self._post_consultation(clinic, context, record, now, new_uuid, answers)
        if cards:
            resources = clinician_resources_card(clinic, new_uuid)
            cards += [(resources, "clinician-resources")] if resources else []
        return Decision(
            cards=[IssuedCard(card, action, None, False) for card, action in cards], assessments=[]
        )

    def _pre_consultation(
        self,
        clinic: ClinicLetterContent,
        context: HookContext,
        record: PatientRecord,
        now: datetime,
        new_uuid: Callable[[], UUID],
    ) -> list[tuple[Card, str]]:
        cards = []
        for appointment in booked_appointments(context, context.patientId):
            if not (self._codes.is_spine_clinic(appointment) and self._codes.is_about_back_pain(appointment)):
                continue
            letter = pre_consultation_letter(record.patient, appointment, now)
            appointment_id = appointment.get("id")
            try:
                communication = pre_consultation_draft(
                    self._templates,
                    letter,
                    patient_id=context.patientId,
                    appointment_id=appointment_id if isinstance(appointment_id, str) else None,
                    uuid=new_uuid(),
                    now=now,
                )
            except (RejectedLanguage, LetterTemplateError) as exc:
                cards.append((_not_drafted(clinic, "pre-consultation", exc, new_uuid), "no-letter"))
                continue
            card = draft_letter_card(
                clinic,
                summary="Draft pre-consultation letter for this spine clinic appointment",
                detail=(
                    "A draft letter to the patient, to review before it is sent: what to expect, who they "
                    "may see, what to bring and wear, and space for their own questions."
                ),
                label="Create the draft pre-consultation letter (for review)",
                resources=[("Draft letter to the patient (Communication in preparation)", communication)],
                new_uuid=new_uuid,
            )
            cards.append((card, "pre-consultation-letter"))
        return cards

    def _post_consultation(
        self,
        clinic: ClinicLetterContent,
        context: HookContext,
        record: PatientRecord,
        now: datetime,
        new_uuid: Callable[[], UUID],
        answers: KnownSubsumptions,
    ) -> list[tuple[Card, str]]:
        encounter = record.encounter
        if encounter is None or encounter.get("id") != context.encounterId:
            return []
        if not (
            self._codes.is_spine_clinic(encounter)
            and self._codes.is_about_back_pain(encounter, record.conditions)
        ):
            return []
        red_flags = self._codes.active_red_flags(record.conditions, answers)
        if red_flags:
            card = no_letter_card(
                clinic,
                "No post-consultation letter drafted: a red-flag condition is active",
                (
                    f"Active: {'; '.join(red_flags)}. The letter tells the patient there are no signs of "
                    "serious disease, so it is not drafted while a red flag is active. Assess the red flag "
                    "first."
                ),
                new_uuid,
            )
            return [(card, "no-letter-red-flag")]
        try:
            draft = self._post_draft(clinic, context, record, encounter, now, new_uuid)
        except (RejectedLanguage, LetterTemplateError, LetterRenderingError) as exc:
            return [(_not_drafted(clinic, "post-consultation", exc, new_uuid), "no-letter")]
        gp_note = (
            "" if general_practitioner(record.patient) else " No GP is recorded: add one before sending."
        )
        card = draft_letter_card(
            clinic,
            summary="Draft post-consultation letter to the patient, copied to the GP",
            detail=(
                "A draft letter summarising this consultation, pre-filled from the record, with marked "
                "places for your own words. Review and complete it before it is sent." + gp_note
            ),
            label="Create the draft post-consultation letter (for review)",
            resources=[
                ("Draft letter (Composition, preliminary)", draft.composition),
                ("Draft letter as HTML and PDF (DocumentReference, preliminary)", draft.document_reference),
                (
                    "Draft sending to the patient and the GP (Communication in preparation)",
                    draft.distribution,
                ),
            ],
            new_uuid=new_uuid,
        )
        return [(card, "post-consultation-letter")]

    def _post_draft(
        self,
        clinic: ClinicLetterContent,
        context: HookContext,
        record: PatientRecord,
        encounter: JsonObject,
        now: datetime,
        new_uuid: Callable[[], UUID],
    ) -> PostConsultationDraft:
        impact = questionnaire_impact(
            self._instruments,
            record.questionnaire_responses,
            context.patientId,
            now,
            clinic.result_window_days,
            clinic.impact_instruments,
        )
        consultation = ConsultationRecord(
            patient=record.patient,
            encounter=encounter,
            procedures=record.procedures,
            medications=record.medications,
            service_requests=record.service_requests,
            observations=record.observations,
        )
        letter = post_consultation_letter(consultation, impact, clinic.patient_resources, now)
        return post_consultation_draft(
            self._templates,
            letter,
            patient_id=context.patientId,
            encounter_id=str(encounter["id"]),
            author=context.userId,
            gp=general_practitioner(record.patient),
            document_type=clinic.document_type,
            uuids=(new_uuid(), new_uuid(), new_uuid()),
            now=now,
        )


def _not_drafted(
    clinic: ClinicLetterContent, which: str, reason: Exception, new_uuid: Callable[[], UUID]
) -> Card:
    return no_letter_card(
        clinic,
        f"No {which} letter drafted: the letter could not be written from its template",
        str(reason),
        new_uuid,
    )


def booked_appointments(context: HookContext, patient_id: str) -> list[JsonObject]:
    """The Appointments of ``context.appointments`` being booked for this patient (others are ignored)."""
    bundle = getattr(context, "appointments", None)
    entries = bundle.get("entry", []) if isinstance(bundle, dict) else []
    appointments = []
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
            continue
        if resource.get("status") in BOOKED_STATUSES and _is_for(resource, patient_id):
            appointments.append(resource)
    return appointments


def _is_for(appointment: JsonObject, patient_id: str) -> bool:
    return any(
        referenced_patient_id(participant.get("actor")) == patient_id
        for participant in appointment.get("participant", [])
        if isinstance(participant, dict)
    )
