"""From letter facts to the draft FHIR resources a suggestion creates: render, check, attach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from stratcare.json_types import JsonObject
from stratcare.letters.content import PostConsultationLetter, PreConsultationLetter
from stratcare.letters.drafts import (
    HTML_TYPE,
    attachment,
    identifier,
    letter_communication,
    letter_composition,
    letter_document_reference,
)
from stratcare.letters.pdf import html_to_pdf
from stratcare.letters.templates import (
    POST_CONSULTATION,
    POST_CONSULTATION_SECTIONS,
    PRE_CONSULTATION,
    LetterTemplates,
)

PRE_CONSULTATION_TITLE = "Your spine clinic appointment"
POST_CONSULTATION_TITLE = "Your spine clinic consultation"


def letter_values(letter: PreConsultationLetter | PostConsultationLetter) -> dict[str, object]:
    """What a template sees: ``letter`` (documented in letters/README.md)."""
    return {"letter": letter}


def pre_consultation_draft(
    templates: LetterTemplates,
    letter: PreConsultationLetter,
    *,
    patient_id: str,
    appointment_id: str | None,
    uuid: UUID,
    now: datetime,
) -> JsonObject:
    html = templates.render(PRE_CONSULTATION, letter_values(letter))
    return letter_communication(
        uuid=uuid,
        patient_id=patient_id,
        recipients=[{"reference": f"Patient/{patient_id}"}],
        title=PRE_CONSULTATION_TITLE,
        payload={
            "contentAttachment": attachment(HTML_TYPE, html.encode("utf-8"), PRE_CONSULTATION_TITLE, now)
        },
        about=[{"reference": f"Appointment/{appointment_id}"}] if appointment_id else (),
        now=now,
    )


@dataclass(frozen=True)
class PostConsultationDraft:
    composition: JsonObject
    document_reference: JsonObject
    distribution: JsonObject
    """The draft Communication that sends the letter to the patient and copies it to the GP."""
    pdf: bytes


def post_consultation_draft(
    templates: LetterTemplates,
    letter: PostConsultationLetter,
    *,
    patient_id: str,
    encounter_id: str,
    author: str,
    gp: JsonObject | None,
    document_type: JsonObject,
    uuids: tuple[UUID, UUID, UUID],
    now: datetime,
) -> PostConsultationDraft:
    values = letter_values(letter)
    html = templates.render(POST_CONSULTATION, values)
    blocks = templates.render_blocks(
        POST_CONSULTATION, [block for block, _ in POST_CONSULTATION_SECTIONS], values
    )
    pdf = html_to_pdf(html)
    composition_id, document_id, communication_id = uuids
    composition = letter_composition(
        uuid=composition_id,
        patient_id=patient_id,
        encounter_id=encounter_id,
        author=author,
        document_type=document_type,
        title=POST_CONSULTATION_TITLE,
        sections={title: blocks[block].strip() for block, title in POST_CONSULTATION_SECTIONS},
        now=now,
    )
    document = letter_document_reference(
        uuid=document_id,
        composition=composition_id,
        patient_id=patient_id,
        encounter_id=encounter_id,
        author=author,
        document_type=document_type,
        title=POST_CONSULTATION_TITLE,
        html=html,
        pdf=pdf,
        now=now,
    )
    recipients = [{"reference": f"Patient/{patient_id}"}, *([gp] if gp else [])]
    distribution = letter_communication(
        uuid=communication_id,
        patient_id=patient_id,
        recipients=recipients,
        title=POST_CONSULTATION_TITLE,
        payload={"contentReference": {"type": "DocumentReference", "identifier": identifier(document_id)}},
        encounter_id=encounter_id,
        now=now,
    )
    return PostConsultationDraft(composition, document, distribution, pdf)
