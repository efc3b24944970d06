"""Card summary wording: the action title, plus the STarT Back risk group whenever one was computed.

Rule: a summary names the risk group in words ("low risk", "medium risk", "high risk") whenever the
newest STarT Back response was scored, and never when it was not (no response, or a refused one), so a
clinician who reads only the summary is never shown a risk that does not exist. A title that names a
risk group other than the computed one, or one when none was computed, is a content error.
"""

from __future__ import annotations

import re

from stratcare.instruments.results import RiskGroup
from stratcare.pathways.errors import PathwayContentError

MAX_SUMMARY_LENGTH = 139  # CDS Hooks 2.0: "<140 characters"
RISK_WORDING = re.compile(r"\b(low|medium|high) risk\b", re.IGNORECASE)
REFERRAL_EXISTS_SUFFIX = "; already ordered"


def card_summary(title: str, risk: RiskGroup | None, *, referral_exists: bool = False) -> str:
    """The card summary for an action ``title``; raise PathwayContentError if the rule cannot hold."""
    named = {match.lower() for match in RISK_WORDING.findall(title)}
    if risk is None and named:
        raise PathwayContentError(f"title {title!r} names a risk group but no risk was computed")
    if risk is not None and named - {risk.value}:
        raise PathwayContentError(f"title {title!r} names a risk group other than {risk.value}")
    summary = title
    if risk is not None and risk.value not in named:
        summary += f" (STarT Back {risk.value} risk)"
    if referral_exists:
        summary += REFERRAL_EXISTS_SUFFIX
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise PathwayContentError(f"summary longer than {MAX_SUMMARY_LENGTH} characters: {summary!r}")
    return summary
