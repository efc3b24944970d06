"""Who may see which clinic's reports, and whether they may see who the patients are."""

from __future__ import annotations

from dataclasses import dataclass


class ReportAccessDenied(Exception):
    """An authenticated user asked for a clinic they may not see (HTTP 403)."""


@dataclass(frozen=True)
class ReportUser:
    subject: str
    clinics: frozenset[str] | None
    """The clinics this user may see; None: every clinic."""
    identifiable: bool
    """May see patient ids (otherwise missed-patient lists show keyed pseudonyms)."""

    def visible(self, requested: frozenset[str] | None) -> frozenset[str] | None:
        """The clinics a report may show: those requested, all of which this user must be allowed."""
        if self.clinics is None:
            return requested
        if not self.clinics:
            raise ReportAccessDenied("no clinic is named for this user")
        if requested is None:
            return self.clinics
        refused = requested - self.clinics
        if refused:
            raise ReportAccessDenied(f"not allowed to see clinic {sorted(refused)[0]!r}")
        return requested
