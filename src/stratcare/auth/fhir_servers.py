"""Which FHIR servers a CDS client may point the service at.

A hook request's ``fhirServer`` makes the service send requests (with the client's access token) to that
URL; only servers configured for the authenticated issuer are allowed, so a caller cannot aim the
service at arbitrary or internal hosts. URLs are compared after normalising scheme and host case, the
default port and a trailing slash; the path must otherwise match exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from stratcare.auth.errors import FhirServerNotAllowed

if TYPE_CHECKING:
    from stratcare.auth.config import IssuerConfig

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_fhir_url(url: str) -> str | None:
    """Comparable form of an http(s) URL, or None when it is not one (or names a user)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None or parts.fragment:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}{query}"


def require_fhir_url(url: str) -> str:
    if normalise_fhir_url(url) is None:
        raise ValueError(f"{url!r} is not an http(s) FHIR server URL")
    return url


def fhir_server_allowed(allowlist: Iterable[str], fhir_server: str) -> bool:
    """Whether ``fhir_server`` is on the allowlist; an empty allowlist allows any http(s) URL."""
    wanted = normalise_fhir_url(fhir_server)
    if wanted is None:
        return False
    allowed = [normalise_fhir_url(entry) for entry in allowlist]
    return not allowed or wanted in allowed


def check_fhir_server(
    issuer_config: IssuerConfig | None,
    fhir_server: str,
    *,
    unauthenticated_allowlist: Iterable[str] = (),
) -> None:
    """Raise ``FhirServerNotAllowed`` unless the client may name ``fhir_server``.

    ``issuer_config`` is the verified client's configuration, or None when authentication is off, in
    which case ``unauthenticated_allowlist`` applies.
    """
    allowlist = issuer_config.fhir_servers if issuer_config is not None else unauthenticated_allowlist
    if not fhir_server_allowed(allowlist, fhir_server):
        raise FhirServerNotAllowed()
