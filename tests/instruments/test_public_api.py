from __future__ import annotations

import stratcare.instruments


def test_public_surface() -> None:
    assert sorted(stratcare.instruments.__all__) == sorted(
        [
            "ENTRY_POINT_GROUP",
            "Chronicity",
            "ConditionCode",
            "Instrument",
            "InstrumentContentError",
            "InstrumentDefinition",
            "InstrumentRegistry",
            "InstrumentResult",
            "ResponseRejected",
            "ResponseSource",
            "ResultResource",
            "Scorer",
            "ScorerNotFound",
            "ScorerOutput",
            "ScoringOutcome",
            "UnavailableInstrument",
            "card_lines",
            "resolve_tool",
            "result_resources",
            "results_by_instrument",
        ]
    )
    assert all(hasattr(stratcare.instruments, name) for name in stratcare.instruments.__all__)
