"""The generic result of scoring any instrument: the shape the pathways, cards and write-back consume.

Nothing here names an instrument: scores, band and flags are whatever the instrument's content declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from stratcare.instruments.definition import BandRule, InstrumentDefinition
from stratcare.instruments.results import ResponseRejected, ResponseSource
from stratcare.json_types import JsonObject


@dataclass(frozen=True)
class ScorerOutput:
    """What a scorer computes from validated answers (flags from content are added by the registry)."""

    scores: Mapping[str, int]
    band: str | None
    """The code of one of the instrument's declared bands, or ``None`` when it declares none."""
    flags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class InstrumentResult:
    definition: InstrumentDefinition
    source: ResponseSource
    answers: Mapping[str, str]
    """The chosen answer code of every answered item, by linkId."""
    scores: Mapping[str, int]
    band: BandRule | None
    flags: tuple[str, ...]
    """Raised flags, in the order the content declares them."""

    @property
    def instrument(self) -> str:
        return self.definition.url

    @property
    def version(self) -> str:
        return self.definition.version

    @property
    def key(self) -> str:
        return self.definition.key

    def variables(self, now: datetime | None = None) -> JsonObject:
        """This result as a FHIRPath variable: ``%results.<key>`` (see docs/instruments.md)."""
        fields: JsonObject = {
            "instrument": self.definition.url,
            "version": self.definition.version,
            "scores": dict(self.scores),
            **dict(self.scores),
            "flags": list(self.flags),
            "response": self.source.reference,
            "answers": dict(self.answers),
        }
        if self.band is not None:
            fields["band"] = self.band.band.code
            fields["bandDisplay"] = self.band.band.display
        if self.source.authored is not None:
            fields["authored"] = self.source.authored.isoformat()
            if now is not None:
                fields["ageDays"] = (now - self.source.authored).days
        return fields


def results_by_instrument(results: list[InstrumentResult], now: datetime | None = None) -> JsonObject:
    """The ``%results`` variable: each scored instrument's variables under its key."""
    return {result.key: result.variables(now) for result in results}


ScoringOutcome = InstrumentResult | ResponseRejected
"""What scoring one response yields: a result, or a refusal with every reason found."""
