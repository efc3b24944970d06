"""Which CDS clients are trusted, and how their tokens are checked.

CDS Hooks 2.0 "Trusting CDS Clients": each client (``iss``) is configured out of band with where its
public keys live (a JWKS URL, a JWKS file, or ``jku`` URLs it may name in the token header) and, here,
which FHIR servers it may ask the service to call.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from stratcare.auth.fhir_servers import require_fhir_url

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

AuthMode = Literal["on", "off"]


def require_key_url(url: str) -> str:
    """Keys are fetched over TLS only; plain http is allowed for loopback hosts (local development)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute URL")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url
    raise ValueError(f"{url!r} must use https")


def require_proxy_address(address: str) -> str:
    """An IP address or network (CIDR); names and ``*`` are refused, so trust is always explicit."""
    try:
        ipaddress.ip_network(address)
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address or network (10.0.0.5, 10.0.0.0/24)") from None
    return address


KeyUrl = Annotated[str, AfterValidator(require_key_url)]
ProxyAddress = Annotated[str, AfterValidator(require_proxy_address)]
FhirServerUrl = Annotated[str, AfterValidator(require_fhir_url)]


class IssuerConfig(BaseModel):
    """One trusted CDS client, keyed by its ``iss`` in ``AuthSettings.issuers``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jwks_url: KeyUrl | None = None
    jwks_file: Path | None = None
    jku_allowlist: tuple[KeyUrl, ...] = ()
    """``jku`` header values that may be followed, compared as exact strings; the configured ``jwks_url`` or
    ``jwks_file`` is always tried first, so a ``jku`` is used only when those keys do not verify."""
    fhir_servers: tuple[FhirServerUrl, ...] = ()
    """FHIR base URLs this client may send as ``fhirServer``; empty allows any (logged as a warning)."""
    writeback_servers: tuple[FhirServerUrl, ...] = ()
    """Servers this client's results are written back to; empty: none (see ``writeback.targets``)."""

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerConfig:
        if self.jwks_url is not None and self.jwks_file is not None:
            raise ValueError("give jwks_url or jwks_file, not both")
        if self.jwks_url is None and self.jwks_file is None and not self.jku_allowlist:
            raise ValueError("give jwks_url, jwks_file or a jku_allowlist")
        return self


Issuers = dict[str, IssuerConfig]
LeewaySeconds = Annotated[int, Field(ge=0, le=300)]
LifetimeSeconds = Annotated[int, Field(gt=0, le=3600)]
CacheSeconds = Annotated[int, Field(gt=0, le=86_400)]

DEFAULT_LEEWAY_SECONDS = 60
DEFAULT_MAX_LIFETIME_SECONDS = 300
"""CDS Hooks: the token's ``exp`` should be no more than five minutes in the future."""
DEFAULT_JWKS_CACHE_SECONDS = 600


class AuthSettings(BaseModel):
    """Everything client authentication needs; ``mode="off"`` accepts unauthenticated calls (demo only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: AuthMode = "on"
    issuers: Issuers = Field(default_factory=dict)
    leeway_seconds: LeewaySeconds = DEFAULT_LEEWAY_SECONDS
    max_token_lifetime_seconds: LifetimeSeconds = DEFAULT_MAX_LIFETIME_SECONDS
    jwks_cache_seconds: CacheSeconds = DEFAULT_JWKS_CACHE_SECONDS
    jwks_min_refetch_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0
    """Least time between two fetches of one key set, however many unknown ``kid`` values arrive."""
    jwks_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
    fhir_server_allowlist: tuple[FhirServerUrl, ...] = ()
    """With ``mode="off"``: FHIR servers any caller may name; empty allows any (a warning is logged)."""


class AuthEnvironment(BaseModel):
    """Mix into the service's ``BaseSettings`` (prefix ``STRATCARE_``): one field per environment variable.

    ``STRATCARE_AUTH`` (on/off), ``STRATCARE_JWT_ISSUERS`` (JSON object of issuer → ``IssuerConfig``),
    ``STRATCARE_FHIR_SERVER_ALLOWLIST`` (JSON list), ``STRATCARE_JWT_LEEWAY_SECONDS``,
    ``STRATCARE_JWT_MAX_LIFETIME_SECONDS``, ``STRATCARE_JWKS_CACHE_SECONDS``, ``STRATCARE_TRUSTED_PROXIES``.
    """

    auth: AuthMode = Field(default="on", description="Authenticate CDS clients by JWT; 'off' for demos only.")
    jwt_issuers: Issuers = Field(default_factory=dict, description="Trusted CDS clients by their iss.")
    fhir_server_allowlist: tuple[FhirServerUrl, ...] = Field(
        default=(), description="With auth off: FHIR servers a caller may name (empty: any)."
    )
    jwt_leeway_seconds: LeewaySeconds = DEFAULT_LEEWAY_SECONDS
    jwt_max_lifetime_seconds: LifetimeSeconds = DEFAULT_MAX_LIFETIME_SECONDS
    jwks_cache_seconds: CacheSeconds = DEFAULT_JWKS_CACHE_SECONDS
    trusted_proxies: tuple[ProxyAddress, ...] = Field(
        default=(),
        description=(
            "Addresses (IPs or CIDR networks) of reverse proxies whose X-Forwarded-Proto and X-Forwarded-For "
            "are believed (JSON list); empty trusts none. X-Forwarded-Host is never used."
        ),
    )

    def auth_settings(self) -> AuthSettings:
        return AuthSettings(
            mode=self.auth,
            issuers=self.jwt_issuers,
            leeway_seconds=self.jwt_leeway_seconds,
            max_token_lifetime_seconds=self.jwt_max_lifetime_seconds,
            jwks_cache_seconds=self.jwks_cache_seconds,
            fhir_server_allowlist=self.fhir_server_allowlist,
        )
