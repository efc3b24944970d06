"""Authentication of CDS clients (CDS Hooks 2.0 "Trusting CDS Clients") and the fhirServer allowlist."""

from stratcare.auth.config import AuthEnvironment, AuthMode, AuthSettings, IssuerConfig
from stratcare.auth.errors import FhirServerNotAllowed, Unauthorized
from stratcare.auth.fhir_servers import check_fhir_server, normalise_fhir_url
from stratcare.auth.keys import JwksCache, KeySource
from stratcare.auth.replay import InMemoryReplayGuard, ReplayGuard
from stratcare.auth.verifier import TokenVerifier, VerifiedClient

__all__ = [
    "AuthEnvironment",
    "AuthMode",
    "AuthSettings",
    "FhirServerNotAllowed",
    "InMemoryReplayGuard",
    "IssuerConfig",
    "JwksCache",
    "KeySource",
    "ReplayGuard",
    "TokenVerifier",
    "Unauthorized",
    "VerifiedClient",
    "check_fhir_server",
    "normalise_fhir_url",
]
