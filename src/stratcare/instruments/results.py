"""What scoring a questionnaire response yields: a typed score, or a refusal with its reasons.

These are the only instrument types the pathways and the hook engine see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RiskGroup(StrEnum):
    """STarT Back risk of persistent disabling pain (Hill et al., Arthritis Rheum 2008)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Chronicity(StrEnum):
    """NIH Research Task Force chronic low back pain classification (Deyo et al. 2014)."""

    ACUTE = "acute"
    CHRONIC = "chronic"


@dataclass(frozen=True)
class ResponseSource:
    """Which QuestionnaireResponse a result came from (for cards, provenance and idempotent write-back)."""

    response_id: str
    version_id: str | None
    """``meta.versionId``, else ``meta.lastUpdated``: which version of the response was scored."""
    questionnaire: str
    """The canonical the response answers, as written in the response (``url`` or ``url|version``)."""
    authored: datetime | None

    @property
    def reference(self) -> str:
        return f"QuestionnaireResponse/{self.response_id}"


@dataclass(frozen=True)
class StartBackScore:
    source: ResponseSource
    instrument_version: str
    total: int
    """Items 1-9, range 0-9."""
    psychosocial: int
    """Items 5-9 (fear, anxiety, catastrophising, low mood, bothersomeness), range 0-5."""
    risk_group: RiskGroup


@dataclass(frozen=True)
class NihScreenResult:
    source: ResponseSource
    instrument_version: str
    duration_code: str
    frequency_code: str
    chronicity: Chronicity


@dataclass(frozen=True)
class ResponseRejected:
    """A response that must not be scored, with every reason found (never a partial score)."""

    source: ResponseSource
    instrument: str
    """The canonical URL of the instrument the response was meant for."""
    reasons: tuple[str, ...]


ScoringOutcome = StartBackScore | NihScreenResult | ResponseRejected
