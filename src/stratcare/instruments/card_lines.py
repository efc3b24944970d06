"""The lines a card shows for a result, from the instrument's ``instrument-card-line`` templates.

A template names scores in braces, plus ``{band}`` (the band's display) and ``{bandCode}``:
``"PHQ-9 {total}/27 ({band})"``. Placeholders are checked against the content when it is loaded.
"""

from __future__ import annotations

from stratcare.instruments.instrument_result import InstrumentResult


def card_lines(result: InstrumentResult) -> list[str]:
    values: dict[str, object] = dict(result.scores)
    if result.band is not None:
        values |= {"band": result.band.band.display, "bandCode": result.band.band.code}
    return [line.format_map(values) for line in result.definition.card_lines]
