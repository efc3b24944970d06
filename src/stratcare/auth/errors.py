"""Why a CDS client is refused, grouped by what the caller can do about it.

``Unauthorized``
    The bearer token is missing, malformed, untrusted, expired, replayed or its signature does not verify.
    The HTTP edge answers a bare 401; ``reason`` is for the service's own log and never sent to the client.
    ``TokenAlreadyUsed``: a hook call's replay is found when its writes commit, after the call was run.
``FhirServerNotAllowed`` (400, an ``InvalidHookRequest``)
    The request names a ``fhirServer`` the authenticated client may not point the service at; refused before
    any outbound call so the service cannot be used to reach arbitrary hosts.
"""

from __future__ import annotations

from stratcare.errors import InvalidHookRequest, Issue


class Unauthorized(Exception):
    """The client could not be authenticated; ``reason`` is for logs only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenAlreadyUsed(Unauthorized):
    """The token's ``jti`` was seen before, found when the call's writes were committed."""

    def __init__(self) -> None:
        super().__init__("jti already used")


class FhirServerNotAllowed(InvalidHookRequest):
    def __init__(self) -> None:
        message = "fhirServer is not on the allowlist for this CDS client"
        super().__init__(message, [Issue(code="security", diagnostics=message, expression=("fhirServer",))])
