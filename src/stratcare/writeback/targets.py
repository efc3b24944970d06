"""Where results are written back: to servers configured for write-back, and nowhere else.

Naming a ``fhirServer`` in a hook call lets the service read from it; it never, by itself, lets the service
write to it. A call's results are queued for its ``fhirServer`` only when that server is configured for
write-back: for the calling issuer (``writeback_servers`` in ``STRATCARE_JWT_ISSUERS``), or, with
authentication off, on ``STRATCARE_WRITEBACK_ALLOWLIST``. ``STRATCARE_WRITEBACK_EHR_BASE_URL`` is always a
target (the operator named it, and it is where a call with no ``fhirServer`` writes). Every list is empty by
default, so out of the box nothing leaves the service but what is configured.

``systemActions`` are not writes by the service: they go back to the calling EHR in its own response,
whatever the target, in the modes that return them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stratcare.auth import AuthSettings, normalise_fhir_url
from stratcare.writeback.settings import WritebackMode, WritebackSettings


def _normalised(urls: Iterable[str]) -> frozenset[str]:
    return frozenset(url for url in (normalise_fhir_url(entry) for entry in urls) if url is not None)


def _shown(url: str) -> str:
    """A target as reported: scheme, host and path; never a query string, which could carry a secret."""
    return urlsplit(url)._replace(query="").geturl()


@dataclass(frozen=True)
class WritebackTargets:
    """The configured write-back servers, as normalised base URLs (see ``normalise_fhir_url``)."""

    mode: WritebackMode
    ehr_base_url: str | None = None
    by_issuer: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unauthenticated: frozenset[str] = frozenset()
    """With authentication off: every caller's allowlist. Empty when authentication is on."""

    @classmethod
    def from_settings(cls, writeback: WritebackSettings, auth: AuthSettings) -> WritebackTargets:
        ehr = normalise_fhir_url(str(writeback.ehr_base_url)) if writeback.ehr_base_url else None
        return cls(
            mode=writeback.mode,
            ehr_base_url=ehr,
            by_issuer={name: _normalised(issuer.writeback_servers) for name, issuer in auth.issuers.items()},
            unauthenticated=_normalised(writeback.allowlist) if auth.mode == "off" else frozenset(),
        )

    @property
    def queues_writes(self) -> bool:
        return self.mode in ("outbox", "both")

    @property
    def returns_system_actions(self) -> bool:
        return self.mode in ("system-actions", "both")

    def target_for(self, issuer: str | None, fhir_server: str | None) -> str | None:
        """Where the outbox sends this call's results, or None when it sends them nowhere.

        ``issuer`` is the verified caller, None when authentication is off.
        """
        if not self.queues_writes:
            return None
        if fhir_server is None:
            return self.ehr_base_url
        wanted = normalise_fhir_url(fhir_server)
        if wanted is None:
            return None
        allowed = self.unauthenticated if issuer is None else self.by_issuer.get(issuer, frozenset())
        return wanted if wanted == self.ehr_base_url or wanted in allowed else None

    def configured(self, base_url: str) -> bool:
        """Whether ``base_url`` is a write-back target for anyone (checked again at delivery)."""
        wanted = normalise_fhir_url(base_url)
        every = {
            self.ehr_base_url,
            *self.unauthenticated,
            *(url for urls in self.by_issuer.values() for url in urls),
        }
        return wanted is not None and wanted in every

    def describe(self) -> dict[str, Any]:
        """Where results go and where they do not, for the start-up log and ``/health``; no secrets."""
        queued = self.queues_writes
        return {
            "mode": self.mode,
            "outbox": queued,
            "systemActions": self.returns_system_actions,
            "ehrBaseUrl": _shown(self.ehr_base_url) if queued and self.ehr_base_url else None,
            "allowlist": sorted(_shown(url) for url in self.unauthenticated) if queued else [],
            "issuers": {
                name: sorted(_shown(url) for url in urls)
                for name, urls in sorted(self.by_issuer.items())
                if queued and urls
            },
            "otherServers": "not written to",
        }

    def summary(self) -> str:
        """One log line saying where results go."""
        if not self.queues_writes:
            where = "returned as systemActions" if self.returns_system_actions else "not written back"
            return f"write-back mode {self.mode}: results are {where}; the outbox writes to no server"
        document = self.describe()
        targets = [*([document["ehrBaseUrl"]] if document["ehrBaseUrl"] else []), *document["allowlist"]]
        targets += [f"{url} (for {name})" for name, urls in document["issuers"].items() for url in urls]
        listed = ", ".join(targets) if targets else "no server (none is configured)"
        also = "; also returned as systemActions" if self.returns_system_actions else ""
        return (
            f"write-back mode {self.mode}: results are written to {listed}; "
            f"any other fhirServer is not written to{also}"
        )
