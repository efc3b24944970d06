"""The one error root of stratcare, grouped by what the caller can do about it.

``StratcareError``
    ``InvalidHookRequest`` (400): the request is malformed or does not fit the service; fix the request.
    ``UnknownService`` (404): no CDS service has that id.
    ``PrefetchUnavailable`` (412): data the decision needs was neither prefetched nor fetchable
    (CDS Hooks 2.0, "Prefetch": the service answers 412 when it cannot obtain what it needs).
    ``EhrError`` (502): the EHR's FHIR server or token endpoint failed; the caller cannot fix it by
    changing its own request. Raised as one of:
        ``EhrTechnicalError``: a technical failure (no connection, a timeout, 408, 429, 5xx); a later
        attempt may succeed, no sooner than ``retry_after_seconds`` when the EHR said so.
        ``EhrRejectedError``: a logical failure (another 4xx, an answer FHIR does not allow); the same
        request fails again, so it is not retried.
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


class EhrError(StratcareError):
    """The EHR (its FHIR server or its token endpoint) did not do what was asked; raise a subclass."""

    status_code = 502
    issue_code = "transient"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status the EHR answered, when it answered one."""


class EhrTechnicalError(EhrError):
    """Unreachable, timed out, rate limited or failing (``fhir.retryable``): a later attempt may succeed."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after_seconds: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after_seconds = retry_after_seconds
        """How long the EHR asked the caller to wait (``Retry-After``), if it did."""


class EhrRejectedError(EhrError):
    """The EHR refused the request, or answered with something FHIR does not allow: sending it again fails
    the same way."""


class StoreUnavailable(StratcareError):
    status_code = 503
    issue_code = "timeout"
