"""Critical flags: a card for same-day clinician review whenever a current screen raises one.

A flag's severity is content (the instrument's ``instrument-flag``): every raised ``critical`` flag of a
current scored screen gets its own card, before the pathway's cards and whatever their conditions say (red
flags, age, scope), because what it reports (PHQ-9 item 9: thoughts of death or self-harm; Kroenke et al.
2001) needs a clinician the same day, whichever pathway the service runs. The card offers no suggestion
and the result is never acted on by a system action (``system_action_allowed``, see the write-back
planner). An out-of-date screen raises no card, as it names no risk: the pathway asks for a new screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from stratcare.cdshooks.models import Card
from stratcare.instruments.card_lines import card_lines
from stratcare.instruments.definition import FlagRule
from stratcare.instruments.instrument_result import InstrumentResult
from stratcare.pathways.cards import card_source
from stratcare.pathways.definition import PathwayDefinition
from stratcare.pathways.inputs import PathwayInputs
from stratcare.pathways.screen_dates import date_in_words, is_current

CRITICAL = "critical"


@dataclass(frozen=True)
class FlagCard:
    card: Card
    instrument: str
    """The instrument's key."""
    flag: str


def raised_critical_flags(result: InstrumentResult) -> list[FlagRule]:
    return [
        rule for rule in result.definition.flags if rule.name in result.flags and rule.severity == CRITICAL
    ]


def _detail(result: InstrumentResult, rule: FlagRule, inputs: PathwayInputs) -> str:
    dated = result.source.dated
    when = f" Completed {date_in_words(dated.instant, dated.precision, inputs.now)}." if dated else ""
    lines = "; ".join(card_lines(result))
    return f"{rule.description}\n\n**Screening results**\n\n- {lines}.{when}"


def critical_flag_cards(
    inputs: PathwayInputs, definition: PathwayDefinition, new_uuid: Callable[[], UUID]
) -> list[FlagCard]:
    """One critical card per raised critical flag of each current scored screen, in the service's order."""
    source = card_source(definition.source)
    cards: list[FlagCard] = []
    for result in inputs.scored_results():
        if not is_current(result.source, inputs.now, definition.screen_window_days):
            continue
        for rule in raised_critical_flags(result):
            summary = rule.summary or f"{result.definition.short_name}: {rule.name}, review today"
            card = Card(
                uuid=new_uuid(),
                summary=summary,
                detail=_detail(result, rule, inputs),
                indicator=CRITICAL,
                source=source,
            )
            cards.append(FlagCard(card=card, instrument=result.key, flag=rule.name))
    return cards
