"""The one error root of stratcare, grouped by what the caller can do about it.

``StratcareError``
    ``InvalidHookRequest`` (400): the request is malformed or does not fit the service; fix the request.
    ``UnknownService`` (404): no CDS service has that id.
    ``PrefetchUnavailable`` (412): data the decision needs was neither prefetched nor fetchable
    (CDS Hooks 2.0, "Prefetch": the service answers 412 when it cannot obtain what it needs).
    ``FhirServerError`` (502): the EHR's FHIR server failed in a way the caller cannot fix by retrying
    the same request body; ``technical`` says whether a later retry may succeed.
    ``StoreUnavailable`` (503): the call could not be recorded within its deadline; nothing was answered,
    and a retry may succeed.

Each error carries FHIR OperationOutcome issues; ``stratcare.api.errors`` is the single place that turns
them into HTTP responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

IssueSeverity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: FHIR issue-type ``code`` (e.g. invalid, not-found) and a message."""

    code: str
    diagnostics: str
    severity: IssueSeverity = "error"
    expression: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [issue.to_json() for issue in issues]}


class StratcareError(Exception):
    status_code = 500
    issue_code = "exception"

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues or [Issue(code=self.issue_code, diagnostics=message)]

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


class InvalidHookRequest(StratcareError):
    status_code = 400
    issue_code = "invalid"


class UnknownService(StratcareError):
    status_code = 404
    issue_code = "not-found"


class PrefetchUnavailable(StratcareError):
    status_code = 412
    issue_code = "not-found"


class FhirServerError(StratcareError):
    status_code = 502
    issue_code = "transient"

    def __init__(self, message: str, *, technical: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.technical = technical
        self.status = status


class StoreUnavailable(StratcareError):
    status_code = 503
    issue_code = "timeout"
