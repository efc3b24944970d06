"""ActivityDefinitions of kind ServiceRequest, and the draft ServiceRequests made from them.

The draft carries ``status: draft`` so that nothing is ordered until the clinician signs it; ``intent``
comes from the ActivityDefinition (the default content uses ``order``, so signing is a status change on
the same resource). An equivalent recent open request (draft, active or on-hold, with every coding of the
ActivityDefinition's code, ordered within the pathway's ``orderWindowDays``) means the referral exists
already and no new draft is offered. An older open order (typically a draft nobody signed) belongs to an
earlier episode and does not count; nor does an order with neither ``authoredOn`` nor ``meta.lastUpdated``,
whose age cannot be told (the clinician then sees a new draft, which is safer than no referral).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from stratcare.content import ContentError, ContentRepository
from stratcare.fhir_datetime import parse_fhir_datetime
from stratcare.json_types import JsonObject
from stratcare.pathways.codes import Concept
from stratcare.pathways.errors import PathwayContentError
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.screen_dates import is_current
from stratcare.pathways.worklist_referral import NO_WORKLIST, Worklist, read_worklist

SERVICE_REQUEST_CATEGORY_EXTENSION = "http://stratcare.org/fhir/StructureDefinition/servicerequest-category"
REQUEST_INTENTS = frozenset(
    {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order"}
    | {"instance-order", "option"}
)
REQUEST_PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})
OPEN_REQUEST_STATUSES = frozenset({"draft", "active", "on-hold"})


@dataclass(frozen=True)
class ReferralDefinition:
    """What an ActivityDefinition of kind ServiceRequest says a referral looks like."""

    canonical: str
    """``url|version``, written to ServiceRequest.instantiatesCanonical."""
    title: str
    intent: str
    priority: str | None
    code: Concept
    categories: tuple[Concept, ...]
    worklist: Worklist = NO_WORKLIST
    """Who performs it and whose worklist its Task lands in (``worklist_referral``), when the
    ActivityDefinition says."""


def load_referral(content: ContentRepository, canonical: str) -> ReferralDefinition:
    """Resolve and check an ActivityDefinition; raise PathwayContentError if it cannot be used."""
    try:
        definition = content.resolve("ActivityDefinition", canonical)
    except ContentError as exc:
        raise PathwayContentError(f"unknown ActivityDefinition {canonical!r}") from exc
    origin = f"ActivityDefinition {canonical}"
    if definition.get("kind") != "ServiceRequest":
        raise PathwayContentError(f"{origin}: only kind ServiceRequest is supported")
    intent, priority, title = (definition.get(k) for k in ("intent", "priority", "title"))
    if intent not in REQUEST_INTENTS or not isinstance(title, str):
        raise PathwayContentError(f"{origin}: needs a title and a ServiceRequest intent")
    if priority is not None and priority not in REQUEST_PRIORITIES:
        raise PathwayContentError(f"{origin}: unknown priority {priority!r}")
    version = definition.get("version")
    return ReferralDefinition(
        canonical=f"{definition['url']}|{version}" if version else str(definition["url"]),
        title=title,
        intent=str(intent),
        priority=priority,
        code=Concept.from_json(definition.get("code"), origin),
        categories=tuple(
            Concept.from_json(extension.get("valueCodeableConcept"), origin)
            for extension in definition.get("extension", [])
            if extension.get("url") == SERVICE_REQUEST_CATEGORY_EXTENSION
        ),
        worklist=read_worklist(definition),
    )


def ordered_at(request: JsonObject) -> datetime | None:
    """When the order was made: ``authoredOn``, else ``meta.lastUpdated`` (start of a partial date)."""
    meta = request.get("meta")
    last_updated = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return parse_fhir_datetime(request.get("authoredOn")) or parse_fhir_datetime(last_updated)


def _recent(request: JsonObject, now: datetime, window_days: int) -> bool:
    when = ordered_at(request)
    return when is not None and (now - when).days <= window_days


def existing_referral(
    referral: ReferralDefinition,
    service_requests: Iterable[JsonObject],
    now: datetime,
    window_days: int,
    in_session: Iterable[JsonObject] = (),
) -> JsonObject | None:
    """The first recent open ServiceRequest for the same service: one made from the same ActivityDefinition
    (any version, even if the EHR mapped its codes to local ones), or one whose code holds every coding of
    the referral's code. A plain physiotherapy referral (SNOMED CT 308447003 alone) therefore counts for
    medium risk but not for high risk, whose matched treatment is psychologically informed physiotherapy.

    ``in_session`` are the draft orders of the current ordering session (order-select / order-sign
    ``draftOrders``): a matching one counts whatever its dates say, because it is being ordered now."""
    wanted = {(coding.system, coding.code) for coding in referral.code.codings}
    definition = referral.canonical.split("|", 1)[0]
    session = [order for order in in_session if order.get("resourceType") == "ServiceRequest"]
    for request in (*session, *service_requests):
        counted = any(request is order for order in session) or _recent(request, now, window_days)
        if request.get("status") not in OPEN_REQUEST_STATUSES or not counted:
            continue
        code = request.get("code")
        codings = code.get("coding", []) if isinstance(code, dict) else []
        held = {(c.get("system"), c.get("code")) for c in codings if isinstance(c, dict)}
        instantiates = request.get("instantiatesCanonical")
        same_definition = isinstance(instantiates, list) and any(
            isinstance(canonical, str) and canonical.split("|", 1)[0] == definition
            for canonical in instantiates
        )
        if same_definition or wanted <= held:
            return request
    return None


def _supporting_info(inputs: PathwayInputs, window_days: int) -> list[JsonObject]:
    """The current scored responses the referral rests on (a refused or old response supports nothing)."""
    return [
        {"reference": result.source.reference, "display": f"{result.definition.name} response"}
        for result in inputs.scored_results()
        if is_current(result.source, inputs.now, window_days)
    ]


def draft_service_request(
    referral: ReferralDefinition, inputs: PathwayInputs, reasons: tuple[Concept, ...], screen_window_days: int
) -> JsonObject:
    """The draft ServiceRequest a suggestion creates (FHIR R4)."""
    request: JsonObject = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": referral.intent,
        "instantiatesCanonical": [referral.canonical],
        "code": referral.code.to_json(),
        "subject": {"reference": f"Patient/{inputs.patient_id}"},
        "authoredOn": inputs.now.isoformat(),
    }
    if referral.categories:
        request["category"] = [category.to_json() for category in referral.categories]
    if referral.priority:
        request["priority"] = referral.priority
    if inputs.encounter_id:
        request["encounter"] = {"reference": f"Encounter/{inputs.encounter_id}"}
    if reasons:
        request["reasonCode"] = [reason.to_json() for reason in reasons]
    if supporting := _supporting_info(inputs, screen_window_days):
        request["supportingInfo"] = supporting
    return request
