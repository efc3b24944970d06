"""Response shapes documented in OpenAPI that are not CDS Hooks wire models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


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


class Health(BaseModel):
    status: Literal["ok"]
    version: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": OperationOutcome, "description": "Malformed or invalid request"},
    404: {"model": OperationOutcome, "description": "No CDS service with that id"},
    500: {"model": OperationOutcome, "description": "Internal error; nothing was evaluated"},
}
