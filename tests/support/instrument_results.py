"""Instrument results built from the shipped instrument content with the scores and band given by hand."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from functools import cache

from stratcare.content import ContentRepository
from stratcare.instruments.definition import InstrumentDefinition
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.instruments.registry import InstrumentRegistry
from stratcare.instruments.results import ResponseSource


@cache
def registry() -> InstrumentRegistry:
    return InstrumentRegistry.from_content(ContentRepository.load())


@cache
def shipped(key: str, version: str | None = None) -> InstrumentDefinition:
    instrument = registry().by_key(key)
    assert instrument is not None, key
    return replace(instrument.definition, version=version) if version else instrument.definition


def start_back_result(
    source: ResponseSource,
    instrument_version: str = "1.0.0",
    total: int = 7,
    psychosocial: int = 4,
    risk_group: str = "high",
) -> InstrumentResult:
    definition = shipped("startBack", instrument_version)
    return InstrumentResult(
        definition=definition,
        source=source,
        answers={},
        scores={"total": total, "psychosocial": psychosocial},
        band=definition.band(f"{risk_group}-risk"),
        flags=(),
    )


def nih_result(
    source: ResponseSource,
    instrument_version: str = "1.0.0",
    duration_code: str = "1-5-years",
    frequency_code: str = "every-day",
    chronicity: str = "chronic",
) -> InstrumentResult:
    definition = shipped("nih", instrument_version)
    return InstrumentResult(
        definition=definition,
        source=source,
        answers={"nih-duration": duration_code, "nih-frequency": frequency_code},
        scores={},
        band=definition.band(chronicity),
        flags=(),
    )


class RiskGroup(StrEnum):
    """STarT Back risk groups, as the tests name them (the band aliases the content declares)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def risk_group_of(result: object) -> RiskGroup | None:
    """The STarT Back risk group of a scored result (its band alias), else None."""
    if not isinstance(result, InstrumentResult) or result.band is None or result.band.alias is None:
        return None
    return RiskGroup(result.band.alias)
