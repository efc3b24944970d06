"""Scoring the Keele STarT Back Screening Tool.

Source: Keele University, "Using and scoring the Keele STarT Back Screening Tool"; Hill JC et al., Arthritis
Rheum 2008;59(5):632-641. Items 1-8: Agree = 1, Disagree = 0. Item 9 (bothersomeness): 1 for "Very much" or
"Extremely", else 0. Total = items 1-9 (0-9). Psychosocial subscale = items 5-9 (0-5). High risk when the
subscale is 4 or more; otherwise medium when the total is 4 or more; otherwise low. High is evaluated first:
a subscale of 4 or more implies a total of 4 or more. (Two errors circulate in public copies: a subscale of
items 1, 4, 7, 8, 9 and "total of 5 or more is high"; neither is the published rule.)
"""

from __future__ import annotations

from collections.abc import Mapping

from stratcare.instruments.results import ResponseSource, RiskGroup, StartBackScore

ITEM_LINK_IDS = tuple(f"sb-{number}" for number in range(1, 10))
PSYCHOSOCIAL_LINK_IDS = ITEM_LINK_IDS[4:]
BOTHERSOME_LINK_ID = "sb-9"
AGREE = "agree"
BOTHERSOME_SCORING_ONE = frozenset({"very-much", "extremely"})
RISK_THRESHOLD = 4


def item_score(link_id: str, code: str) -> int:
    if link_id == BOTHERSOME_LINK_ID:
        return int(code in BOTHERSOME_SCORING_ONE)
    return int(code == AGREE)


def risk_group(total: int, psychosocial: int) -> RiskGroup:
    if psychosocial >= RISK_THRESHOLD:
        return RiskGroup.HIGH
    if total >= RISK_THRESHOLD:
        return RiskGroup.MEDIUM
    return RiskGroup.LOW


def score_start_back(
    answers: Mapping[str, str], source: ResponseSource, instrument_version: str
) -> StartBackScore:
    """Score a validated response: ``answers`` holds a code for each of items sb-1 to sb-9."""
    scores = {link_id: item_score(link_id, answers[link_id]) for link_id in ITEM_LINK_IDS}
    total = sum(scores.values())
    psychosocial = sum(scores[link_id] for link_id in PSYCHOSOCIAL_LINK_IDS)
    return StartBackScore(
        source=source,
        instrument_version=instrument_version,
        total=total,
        psychosocial=psychosocial,
        risk_group=risk_group(total, psychosocial),
    )
