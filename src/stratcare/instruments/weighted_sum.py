"""The generic scorer: each named score is the sum of the weights of the chosen answers; ordered band rules.

Weights, subscales and cut-offs are the Questionnaire's content (see ``definition.py``); this module holds no
clinical number. ``band_of`` evaluates the rules in the order the content lists them, so a rule such as
STarT Back's "high if the psychosocial subscale is 4 or more" is tested before "medium if the total is 4 or
more".
"""

from __future__ import annotations

from collections.abc import Mapping

from stratcare.instruments.definition import BandRule, FlagRule, InstrumentDefinition
from stratcare.instruments.instrument_result import ScorerOutput


def weighted_scores(answers: Mapping[str, str], definition: InstrumentDefinition) -> dict[str, int]:
    """Every named score; ``answers`` holds a weighted answer code for each item the scores read."""
    return {
        name: sum([weights[answers[link_id]] for link_id, weights in items])
        for name, items in definition.compiled_scores
    }


def band_of(scores: Mapping[str, int], bands: tuple[BandRule, ...]) -> BandRule | None:
    for rule in bands:
        if rule.score is None or scores[rule.score] >= rule.minimum:
            return rule
    return None


def raised_flags(answers: Mapping[str, str], definition: InstrumentDefinition) -> tuple[str, ...]:
    return tuple(flag.name for flag in definition.flags if _raised(flag, answers, definition))


def _raised(flag: FlagRule, answers: Mapping[str, str], definition: InstrumentDefinition) -> bool:
    code = answers.get(flag.item)
    return code is not None and definition.weights[flag.item][code] >= flag.minimum


def score_weighted_sum(answers: Mapping[str, str], definition: InstrumentDefinition) -> ScorerOutput:
    scores = weighted_scores(answers, definition)
    band = band_of(scores, definition.bands)
    return ScorerOutput(scores=scores, band=band.band.code if band is not None else None)
