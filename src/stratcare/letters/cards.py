"""The cards the letter services show clinicians: a draft letter to review, why none was drafted, and the
clinic's training and evidence for spine consultations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from stratcare.cdshooks.models import Action, Card, Link, Source, Suggestion
from stratcare.json_types import JsonObject
from stratcare.letters.clinic_content import ClinicLetterContent

UuidFactory = Callable[[], UUID]


def _source(clinic: ClinicLetterContent) -> Source:
    return Source(label=clinic.source_title)


def draft_letter_card(
    clinic: ClinicLetterContent,
    *,
    summary: str,
    detail: str,
    label: str,
    resources: Sequence[tuple[str, JsonObject]],
    new_uuid: UuidFactory,
) -> Card:
    """One suggestion creating every draft (``resources``: description and resource, in order)."""
    actions = [Action(type="create", description=text, resource=resource) for text, resource in resources]
    return Card(
        uuid=new_uuid(),
        summary=summary,
        detail=detail,
        indicator="info",
        source=_source(clinic),
        suggestions=[Suggestion(label=label, uuid=new_uuid(), isRecommended=True, actions=actions)],
        selectionBehavior="at-most-one",
    )


def no_letter_card(clinic: ClinicLetterContent, summary: str, detail: str, new_uuid: UuidFactory) -> Card:
    return Card(uuid=new_uuid(), summary=summary, detail=detail, indicator="warning", source=_source(clinic))


def clinician_resources_card(clinic: ClinicLetterContent, new_uuid: UuidFactory) -> Card | None:
    """Links to the clinic's communication-skills training and evidence; none when it configures none."""
    links = [
        Link(label=link.label[:200], url=link.url, type="absolute")
        for link in (*clinic.training, *clinic.evidence)
    ]
    if not links:
        return None
    return Card(
        uuid=new_uuid(),
        summary="Spine consultations when surgery is not indicated: training and evidence",
        detail=(
            "Patients told to expect no surgery often leave distressed and without a plan. The clinic's "
            "communication-skills training and evidence-based resources for these consultations are linked "
            "below."
        ),
        indicator="info",
        source=_source(clinic),
        links=links,
    )
