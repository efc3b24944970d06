"""Pieces of CDS Hooks requests that many tests build."""

from __future__ import annotations

from typing import Any


def lent_token(access_token: str, *, expires_in: int = 300, scope: str = "patient/*.read") -> dict[str, Any]:
    """A ``fhirAuthorization`` as an EHR lends it for one hook call."""
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scope,
        "subject": "stratcare",
    }
