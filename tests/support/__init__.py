"""Shared helpers for stratcare's tests."""

from .fhir_server import (
    FhirTestServer,
    FhirTestServerError,
    UnsupportedOnExternalServer,
    running_fhir_server,
)

__all__ = [
    "FhirTestServer",
    "FhirTestServerError",
    "UnsupportedOnExternalServer",
    "running_fhir_server",
]
