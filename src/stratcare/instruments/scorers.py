"""Which scoring module an instrument names: the built-in ones, then any registered by another package.

A third-party package registers a scorer under the entry-point group ``stratcare.scorers``::

    [project.entry-points."stratcare.scorers"]
    my-rule = "my_package.scoring:score_my_rule"

The entry point's name is what a Questionnaire's ``instrument-scorer`` extension says; the object is a
``Scorer``. Built-in names cannot be replaced by a plug-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Protocol

from stratcare.instruments.definition import WEIGHTED_SUM, InstrumentDefinition
from stratcare.instruments.instrument_result import ScorerOutput
from stratcare.instruments.nih_classification import classify_nih
from stratcare.instruments.weighted_sum import score_weighted_sum

ENTRY_POINT_GROUP = "stratcare.scorers"


class Scorer(Protocol):
    def __call__(self, answers: Mapping[str, str], definition: InstrumentDefinition, /) -> ScorerOutput: ...


BUILT_IN_SCORERS: dict[str, Scorer] = {
    WEIGHTED_SUM: score_weighted_sum,
    "nih-clbp-screen": classify_nih,
}


class ScorerNotFound(Exception):
    """A Questionnaire names a scorer that is neither built in nor registered as an entry point."""


def available_scorers() -> dict[str, Scorer]:
    """Built-in scorers plus every ``stratcare.scorers`` entry point (loaded once, at start-up)."""
    found: dict[str, Scorer] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name not in BUILT_IN_SCORERS:
            found[entry_point.name] = entry_point.load()
    return found | BUILT_IN_SCORERS
