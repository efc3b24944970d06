"""Which HTTP statuses from an EHR mean "try again later": one rule for reads, write-back and tokens.

A later attempt may succeed after
- ``408 Request Timeout``: the server stopped waiting for the request (RFC 9110 §15.5.9);
- ``429 Too Many Requests``: the caller is being rate limited, often with ``Retry-After`` (RFC 6585 §4);
- any ``5xx``: the server failed, or a gateway in front of it did (RFC 9110 §15.6).

Every other ``4xx`` refuses the request itself (invalid, not allowed, conflicting): sending the same
request again gets the same answer, so such a failure is final. ``status_error`` picks the error class
(``stratcare.errors``) by this rule.
"""

from __future__ import annotations

from stratcare.errors import EhrError, EhrRejectedError, EhrTechnicalError

RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    """True for the error statuses after which the same request may later succeed."""
    return status in RETRYABLE_CLIENT_ERRORS or status >= 500


def status_error(message: str, status: int, retry_after_seconds: float | None = None) -> EhrError:
    """The error for an EHR's error answer: technical when ``status`` is retryable, else rejected."""
    if is_retryable_status(status):
        return EhrTechnicalError(message, status=status, retry_after_seconds=retry_after_seconds)
    return EhrRejectedError(message, status=status)
