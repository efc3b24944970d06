"""Clinician support on cards: a gentle fidelity prompt and the clinic's training links.

The STarT MSK programme kept fidelity up with monitoring, regular feedback and remedial support given by
hand; this brings the same feedback to the clinician's next card. Fidelity is the share of the clinician's
risk-group decisions (cards they gave feedback on) that accepted the matched treatment, over the last
``FIDELITY_WINDOW`` (whole UTC days, today's included). The prompt is shown only past a minimum number of
decisions, so one override does not label anyone, and it never changes what the card recommends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar

from stratcare.cdshooks.models import Card, Link
from stratcare.engine.ports import IssuedCard
from stratcare.reports.measures import Vocabulary
from stratcare.reports.settings import ReportSettings, SupportLink

FIDELITY_WINDOW = timedelta(days=90)
"""About a quarter: long enough for a few dozen decisions in a typical list, short enough to show change."""

ALL_CLINICS = "*"
T = TypeVar("T")
DEFAULT_VOCABULARY = Vocabulary()


@dataclass(frozen=True)
class Fidelity:
    decisions: int
    matched: int

    @property
    def share(self) -> float | None:
        return self.matched / self.decisions if self.decisions else None


@dataclass(frozen=True)
class SupportNote:
    """What to add to a clinician's risk-group cards: a prompt (or none) and links (possibly none)."""

    prompt: str | None
    links: tuple[SupportLink, ...]


def _for_clinic(values: Mapping[str, T], clinic: str | None) -> T | None:
    if clinic is not None and clinic in values:
        return values[clinic]
    return values.get(ALL_CLINICS)


def wants_fidelity(settings: ReportSettings, clinic: str | None) -> bool:
    return _for_clinic(settings.fidelity_prompt_below, clinic) is not None


def support_note(settings: ReportSettings, clinic: str | None, fidelity: Fidelity | None) -> SupportNote:
    """The note for a clinician at ``clinic``, from the clinic's settings and their recent fidelity."""
    links = tuple(_for_clinic(settings.support_links, clinic) or ())
    level = _for_clinic(settings.fidelity_prompt_below, clinic)
    prompt = None
    if level is not None and fidelity is not None and fidelity.decisions >= settings.fidelity_min_decisions:
        share = fidelity.share
        if share is not None and share < level:
            prompt = (
                f"In the last {FIDELITY_WINDOW.days} days, {fidelity.matched} of your {fidelity.decisions} "
                "decisions on risk-group cards followed the matched treatment. Matching treatment to the "
                "risk group is what improved outcomes in the trials"
                + (": the links below offer training and a model consultation." if links else ".")
            )
    return SupportNote(prompt, links)


def with_support(
    cards: Sequence[IssuedCard], note: SupportNote, vocabulary: Vocabulary = DEFAULT_VOCABULARY
) -> list[IssuedCard]:
    """``cards`` with the note added to each risk-group card (others, e.g. red flags, are left alone)."""
    if note.prompt is None and not note.links:
        return list(cards)
    return [
        replace(issued, card=_annotated(issued.card, note))
        if issued.pathway_action in vocabulary.risk_actions
        else issued
        for issued in cards
    ]


def _annotated(card: Card, note: SupportNote) -> Card:
    detail = card.detail
    if note.prompt is not None:
        detail = f"{detail}\n\n{note.prompt}" if detail else note.prompt
    added = [Link(label=link.label, url=str(link.url), type="absolute") for link in note.links]
    links = [*(card.links or []), *added]
    return card.model_copy(update={"detail": detail, "links": links or None})
