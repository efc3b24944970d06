from __future__ import annotations

import stratcare.instruments


def test_public_surface() -> None:
    assert sorted(stratcare.instruments.__all__) == sorted(
        [
            "ENTRY_POINT_GROUP",
            "NIH_SCREEN_URL",
            "START_BACK_URL",
            "Chronicity",
            "ConditionCode",
            "Instrument",
            "InstrumentRegistry",
            "InstrumentContentError",
            "InstrumentDefinition",
            "InstrumentRegistry",
            "InstrumentResult",
            "NihScreenResult",
            "ResponseRejected",
            "ResponseSource",
            "ResultResource",
            "RiskGroup",
            "Scorer",
            "ScorerNotFound",
            "ScorerOutput",
            "ScoringOutcome",
            "StartBackScore",
            "UnavailableInstrument",
            "card_lines",
            "resolve_tool",
            "result_resources",
            "results_by_instrument",
        ]
    )
    assert all(hasattr(stratcare.instruments, name) for name in stratcare.instruments.__all__)
