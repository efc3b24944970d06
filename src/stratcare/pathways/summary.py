"""Card summary wording: the action title, plus the current risk band whenever one was computed.

Rule: a summary names the risk band in words ("STarT Back low risk") whenever the newest response to the
risk instrument was scored and is current, and never otherwise (no response, a refused or out-of-date one),
so a clinician who reads only the summary is never shown a risk that does not exist. The words are the
instrument's own: its short name and the display of its declared band (content). A title that names a band
other than the computed one, or any risk when none was computed, is a content error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stratcare.pathways.errors import PathwayContentError

MAX_SUMMARY_LENGTH = 139  # CDS Hooks 2.0: "<140 characters"
ANY_RISK_WORDING = re.compile(r"\b(low|medium|moderate|high) risk\b", re.IGNORECASE)
REFERRAL_EXISTS_SUFFIX = "; already ordered"


@dataclass(frozen=True)
class NamedRisk:
    """The risk band a card may name, in the instrument's declared words."""

    instrument: str
    """The instrument's short name (``STarT Back``)."""
    band: str
    """The band's display (``Low risk``)."""
    value: str
    """The band's alias, else its code (``low``): what the call records as its risk group."""
    bands: tuple[str, ...]
    """The displays of every band the instrument declares (to find a title naming another one)."""

    @property
    def words(self) -> str:
        return f"{self.instrument} {self.band.lower()}"


def _named(title: str, bands: tuple[str, ...]) -> set[str]:
    lowered = title.lower()
    return {band.lower() for band in bands if re.search(rf"\b{re.escape(band.lower())}\b", lowered)}


def card_summary(title: str, risk: NamedRisk | None, *, referral_exists: bool = False) -> str:
    """The card summary for an action ``title``; raise PathwayContentError if the rule cannot hold."""
    if risk is None and ANY_RISK_WORDING.search(title):
        raise PathwayContentError(f"title {title!r} names a risk group but no risk was computed")
    summary = title
    if risk is not None:
        named = _named(title, risk.bands)
        if named - {risk.band.lower()}:
            raise PathwayContentError(f"title {title!r} names a risk group other than {risk.band.lower()}")
        if not named:
            summary += f" ({risk.words})"
    if referral_exists:
        summary += REFERRAL_EXISTS_SUFFIX
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise PathwayContentError(f"summary longer than {MAX_SUMMARY_LENGTH} characters: {summary!r}")
    return summary
