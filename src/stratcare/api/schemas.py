"""Response shapes documented in OpenAPI that are not CDS Hooks wire models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OutcomeIssue(BaseModel):
    model_config = ConfigDict(extra="allow")

    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    """FHIR R4 OperationOutcome: the body of every error response."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["OperationOutcome"]
    issue: list[OutcomeIssue]


class OutboxHealth(BaseModel):
    """The write-back outbox: how many writes wait, are being delivered, were delivered or were given up.

    The last dead letter's error text (server diagnostics, URLs) is for operators only:
    ``stratcare outbox status``.
    """

    model_config = ConfigDict(extra="ignore")

    pending: int = Field(description="Writes waiting for their first delivery or for a retry.")
    inFlight: int = Field(description="Writes claimed by a worker and being delivered.")
    delivered: int = Field(description="Writes the FHIR server applied.")
    dead: int = Field(description="Writes given up on; `stratcare outbox requeue-dead` retries them.")
    oldestPendingAgeSeconds: float | None = Field(
        description="Age of the oldest write not yet delivered; null when there is none."
    )


class WritebackHealth(BaseModel):
    """Where results go: the write-back mode and the servers configured for write-back (no secrets)."""

    mode: Literal["outbox", "system-actions", "both", "off"]
    outbox: bool = Field(description="Results are queued and written to the targets below.")
    systemActions: bool = Field(description="Results are returned to the calling EHR as systemActions.")
    ehrBaseUrl: str | None = Field(
        description="Written to for any caller, and when a call names no fhirServer."
    )
    allowlist: list[str] = Field(description="With authentication off: fhirServer values written to.")
    issuers: dict[str, list[str]] = Field(description="Per trusted CDS client: fhirServer values written to.")
    otherServers: Literal["not written to"] = Field(
        description="Any other fhirServer a call names is read from (if allowed) but never written to."
    )


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    outbox: OutboxHealth
    writeback: WritebackHealth


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": OperationOutcome, "description": "Malformed or invalid request"},
    401: {"description": "No valid CDS client JWT (empty body, WWW-Authenticate: Bearer)"},
    404: {"model": OperationOutcome, "description": "No CDS service with that id"},
    413: {"model": OperationOutcome, "description": "Request body too large"},
    500: {"model": OperationOutcome, "description": "Internal error; nothing was evaluated"},
}
