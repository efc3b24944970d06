"""CDS Hooks 2.0 wire models: request, response (cards), discovery and feedback.

Field names and optionality mirror the specification (https://cds-hooks.hl7.org/2.0/): a required field
has no default; an optional field is omitted from JSON, never sent as ``null``. Strings and lists that are
present must not be empty, because the specification gives an empty value no meaning and EHRs differ in how
they render one.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    StringConstraints,
    model_validator,
)

from stratcare.json_types import JsonObject

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
"""A FHIR resource or other JSON object as received; parsed further only by the code that owns it."""


class WireModel(BaseModel):
    """Base for every CDS Hooks object we emit: camelCase names, no nulls on output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> JsonObject:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class RequestModel(BaseModel):
    """Base for objects we receive: unknown members are tolerated (the spec's extension rules)."""

    model_config = ConfigDict(extra="allow", frozen=True)


# --- Request -----------------------------------------------------------------------------------------


def _bearer_any_case(value: object) -> object:
    """The spec fixes ``Bearer``; OAuth 2.0 token types are case-insensitive (RFC 6749 section 7.1)."""
    return "Bearer" if isinstance(value, str) and value.lower() == "bearer" else value


class FhirAuthorization(RequestModel):
    """OAuth 2.0 access token the EHR lends for this one hook call (spec: "FHIR Resource Access")."""

    access_token: SecretStr
    token_type: Annotated[Literal["Bearer"], BeforeValidator(_bearer_any_case)]
    expires_in: int = Field(ge=0)
    scope: NonEmptyStr
    subject: NonEmptyStr
    patient: NonEmptyStr | None = None


class HookRequest(RequestModel):
    """The body the EHR POSTs to ``/cds-services/{id}``."""

    hook: NonEmptyStr
    hookInstance: UUID
    fhirServer: HttpUrl | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: JsonObject
    prefetch: dict[str, JsonObject | None] | None = None
    extension: JsonObject | None = None


# --- Response ----------------------------------------------------------------------------------------

Indicator = Literal["info", "warning", "critical"]
SelectionBehavior = Literal["at-most-one", "any"]


class Coding(WireModel):
    system: NonEmptyStr | None = None
    code: NonEmptyStr
    display: NonEmptyStr | None = None


class Source(WireModel):
    label: NonEmptyStr
    url: NonEmptyStr | None = None
    icon: NonEmptyStr | None = None
    topic: Coding | None = None


class Action(WireModel):
    type: Literal["create", "update", "delete"]
    description: NonEmptyStr
    resource: JsonObject | None = None
    resourceId: list[NonEmptyStr] | None = Field(default=None, min_length=1)


class Suggestion(WireModel):
    label: NonEmptyStr
    uuid: UUID
    isRecommended: bool | None = None
    actions: list[Action] | None = Field(default=None, min_length=1)


class Link(WireModel):
    label: NonEmptyStr
    url: NonEmptyStr
    type: Literal["absolute", "smart"]
    appContext: NonEmptyStr | None = None


class OverrideReasonCoding(Coding):
    """Override reasons are shown to clinicians, so each must carry a ``display``."""

    display: NonEmptyStr


class Card(WireModel):
    uuid: UUID
    summary: Annotated[str, StringConstraints(min_length=1, max_length=139)]
    detail: NonEmptyStr | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: SelectionBehavior | None = None
    overrideReasons: list[OverrideReasonCoding] | None = Field(default=None, min_length=1)
    links: list[Link] | None = Field(default=None, min_length=1)


class HookResponse(WireModel):
    cards: list[Card]
    systemActions: list[Action] | None = Field(default=None, min_length=1)


# --- Discovery ---------------------------------------------------------------------------------------


class ServiceDescriptor(WireModel):
    hook: NonEmptyStr
    title: NonEmptyStr | None = None
    description: NonEmptyStr
    id: NonEmptyStr
    prefetch: dict[str, NonEmptyStr] | None = None
    usageRequirements: NonEmptyStr | None = None


class DiscoveryResponse(WireModel):
    services: list[ServiceDescriptor]


# --- Feedback ----------------------------------------------------------------------------------------


class AcceptedSuggestion(RequestModel):
    id: UUID


class FeedbackCoding(RequestModel):
    system: NonEmptyStr | None = None
    code: NonEmptyStr
    display: NonEmptyStr | None = None


class OverrideReason(RequestModel):
    reason: FeedbackCoding | None = None
    userComment: NonEmptyStr | None = None


class FeedbackItem(RequestModel):
    """One user action on a card (spec 2.0 "Feedback"): suggestions accepted, or the card overridden."""

    card: UUID
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: AwareDatetime

    @model_validator(mode="after")
    def _outcome_fits(self) -> FeedbackItem:
        if self.outcome == "accepted":
            if not self.acceptedSuggestions:
                raise ValueError("an accepted outcome needs acceptedSuggestions")
            if self.overrideReason is not None:
                raise ValueError("overrideReason is only for an overridden outcome")
        elif self.acceptedSuggestions:
            raise ValueError("an overridden outcome has no acceptedSuggestions")
        return self


class FeedbackRequest(RequestModel):
    feedback: list[FeedbackItem] = Field(min_length=1)
