"""Build step: one CDS Hooks 2.0 card per applicable action.

Field by field: ``summary`` from the action title (risk wording rule in ``summary``); ``indicator`` from
the action priority (table in ``card_mapping``); ``source`` from the PlanDefinition (title, documentation
url, topic); ``detail`` from the action description, the record resources its evidence expression
selected (``evidence``) and the screening results; ``suggestions`` from the ActivityDefinition (one
draft-order suggestion; for a referral into a receiving service's worklist, one suggestion whose two
``create`` actions are the draft ServiceRequest and its Task, ``worklist_referral``) with
``selectionBehavior`` only when there is one;
``overrideReasons`` from the action's override-reasons ValueSet; ``links`` from action.documentation, plus,
when the action asks for a screen and the capture page's launch URL is known, a ``smart`` link opening it
(``screen_links``).
Every card and suggestion gets a uuid from the injected ``new_uuid``; absent fields are omitted, never
empty or null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from stratcare.cdshooks.models import (
    Action,
    Card,
    Coding,
    Link,
    OverrideReasonCoding,
    Source,
    Suggestion,
)
from stratcare.json_types import JsonObject
from stratcare.pathways.definition import ActionSpec, PathwayDefinition, SourceSpec
from stratcare.pathways.detail import card_detail
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.screen_links import screen_link
from stratcare.pathways.summary import NamedRisk, card_summary
from stratcare.pathways.worklist_referral import with_worklist, worklist_task

UuidFactory = Callable[[], UUID]


@dataclass(frozen=True)
class AppliedAction:
    """An action whose conditions held (the RequestGroup.action of ``$apply``)."""

    spec: ActionSpec
    risk: NamedRisk | None = None
    """The risk band the card may name: from a current scored screen only."""
    proposed_request: JsonObject | None = None
    """The draft ServiceRequest to suggest, when the action defines a referral not yet requested."""
    existing_request: JsonObject | None = None
    """The open ServiceRequest that made a new referral redundant."""
    evidence: tuple[JsonObject, ...] = ()
    """The record resources the action's card-evidence expression selected, named in the detail."""
    proposed_task: JsonObject | None = None
    """The questionnaire Task to suggest, when the action defines one (``tasks``)."""


def card_source(source: SourceSpec) -> Source:
    topic = source.topic
    return Source(
        label=source.label,
        url=source.url,
        topic=Coding(system=topic.system, code=topic.code, display=topic.display) if topic else None,
    )


def _suggestions(applied: AppliedAction, new_uuid: UuidFactory, now: datetime) -> list[Suggestion] | None:
    if applied.spec.task is not None and applied.proposed_task is not None:
        title = applied.spec.task.title
        action = Action(type="create", description=title, resource=applied.proposed_task)
        return [Suggestion(label=title, uuid=new_uuid(), actions=[action])]
    referral, request = applied.spec.referral, applied.proposed_request
    if referral is None or request is None:
        return None
    worklist = referral.worklist
    referral_id = new_uuid() if worklist.routed else None
    if referral_id is not None:
        request = with_worklist(request, worklist, referral_id)
    actions = [
        Action(type="create", description=f"Draft order for signature: {referral.title}", resource=request)
    ]
    if worklist.task_owner is not None and referral_id is not None:
        owner = worklist.task_owner.get("display") or "the receiving service"
        task = worklist_task(request, worklist.task_owner, referral_id, now)
        actions.append(Action(type="create", description=f"Task in the worklist of {owner}", resource=task))
    return [Suggestion(label=referral.title, uuid=new_uuid(), actions=actions)]


def _links(spec: ActionSpec, inputs: PathwayInputs, launch_url: str | None) -> list[Link] | None:
    links = [Link(label=link.label, url=link.url, type="absolute") for link in spec.links]
    if spec.screen is not None and launch_url is not None:
        point = inputs.workflow.workflow_point if inputs.workflow else "clinician"
        links.append(screen_link(spec.screen, launch_url, inputs.patient_id, inputs.encounter_id, point))
    return links or None


def build_card(
    applied: AppliedAction,
    inputs: PathwayInputs,
    definition: PathwayDefinition,
    new_uuid: UuidFactory,
    launch_url: str | None = None,
) -> Card:
    """The card for one applied action; ``launch_url`` is the capture page's SMART launch URL, if any."""
    spec = applied.spec
    card_id = new_uuid()
    suggestions = _suggestions(applied, new_uuid, inputs.now)
    return Card(
        uuid=card_id,
        summary=card_summary(
            spec.title,
            applied.risk if spec.risk_in_summary else None,
            referral_exists=applied.existing_request is not None,
        ),
        detail=card_detail(
            spec.description,
            inputs,
            applied.existing_request,
            definition.screen_window_days,
            applied.evidence,
        ),
        indicator=spec.indicator,
        source=card_source(definition.source),
        suggestions=suggestions,
        selectionBehavior=spec.selection_behavior if suggestions else None,
        overrideReasons=[
            OverrideReasonCoding(system=reason.system, code=reason.code, display=str(reason.display))
            for reason in spec.override_reasons
        ]
        or None,
        links=_links(spec, inputs, launch_url),
    )
