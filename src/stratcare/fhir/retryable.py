"""Which HTTP statuses from an EHR mean "try again later": one rule for reads, write-back and tokens.

A later attempt may succeed after
- ``408 Request Timeout``: the server stopped waiting for the request (RFC 9110 §15.5.9);
- ``429 Too Many Requests``: the caller is being rate limited, often with ``Retry-After`` (RFC 6585 §4);
- any ``5xx``: the server failed, or a gateway in front of it did (RFC 9110 §15.6).

Every other ``4xx`` refuses the request itself (invalid, not allowed, conflicting): sending the same
request again gets the same answer, so such a failure is final.
"""

from __future__ import annotations

RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


def is_retryable_status(status: int) -> bool:
    """True for the error statuses after which the same request may later succeed."""
    return status in RETRYABLE_CLIENT_ERRORS or status >= 500
