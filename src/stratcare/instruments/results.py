"""Where a scored response came from and when it was made, a refusal with its reasons, and the NIH
screen's classification (the one rule that is not a weighted sum)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

DatePrecision = Literal["year", "month", "day", "time"]
DateBasis = Literal["authored", "lastUpdated"]


class Chronicity(StrEnum):
    """NIH Research Task Force chronic low back pain classification (Deyo et al. 2014)."""

    ACUTE = "acute"
    CHRONIC = "chronic"


@dataclass(frozen=True)
class ScreenDate:
    """When a response was made, as far as the record tells: ``authored`` if it has a usable one, else the
    server's ``meta.lastUpdated`` (when the response was last stored, so never earlier than the answers)."""

    instant: datetime
    """The start of the period the value names (1 March for ``2026-03``), in UTC: the oldest the screen
    can be, so that a partial date never makes a screen look more recent than it is."""
    precision: DatePrecision
    basis: DateBasis


@dataclass(frozen=True)
class ResponseSource:
    """Which QuestionnaireResponse a result came from (for cards, provenance and idempotent write-back)."""

    response_id: str
    version_id: str | None
    """``meta.versionId``, else ``meta.lastUpdated``: which version of the response was scored."""
    questionnaire: str
    """The canonical the response answers, as written in the response (``url`` or ``url|version``)."""
    authored: datetime | None
    dated: ScreenDate | None = None
    """When the response was made (see ScreenDate); None when it names neither date, so it is not used."""

    @property
    def reference(self) -> str:
        return f"QuestionnaireResponse/{self.response_id}"


@dataclass(frozen=True)
class ResponseRejected:
    """A response that must not be scored, with every reason found (never a partial score)."""

    source: ResponseSource
    instrument: str
    """The canonical URL of the instrument the response was meant for."""
    reasons: tuple[str, ...]
