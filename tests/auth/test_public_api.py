from __future__ import annotations

import stratcare.auth


def test_public_names() -> None:
    assert sorted(stratcare.auth.__all__) == [
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
    assert all(hasattr(stratcare.auth, name) for name in stratcare.auth.__all__)
