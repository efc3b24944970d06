"""The impact of pain on the patient's life, as the latest questionnaires showed it.

Only the newest response to each instrument counts, and only when it scores (complete and valid) and was
answered within the clinic's window: a letter never quotes an incomplete, invalid or out-of-date
questionnaire, and never an older one in place of a newer one that failed (it may describe another episode).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from stratcare.engine.newest import newest_by_questionnaire
from stratcare.instruments import InstrumentRegistry, InstrumentResult, card_lines
from stratcare.json_types import JsonObject
from stratcare.letters.content import QuestionnaireImpact
from stratcare.letters.fhir_text import long_date


def questionnaire_impact(
    registry: InstrumentRegistry,
    responses: Iterable[JsonObject],
    patient_id: str,
    now: datetime,
    window_days: int,
    instruments: frozenset[str],
) -> tuple[QuestionnaireImpact, ...]:
    """Only the ``instruments`` the clinic quotes (Questionnaire canonicals without version)."""
    oldest = now - timedelta(days=window_days)
    impacts = []
    for url, response in newest_by_questionnaire(responses).items():
        if url.split("|", 1)[0] not in instruments:
            continue
        result = registry.score(response, patient_id)
        if not isinstance(result, InstrumentResult):
            continue
        authored = result.source.authored
        if authored is None or authored < oldest or authored > now:
            continue
        impacts.append(_impact(result, authored))
    return tuple(sorted(impacts, key=lambda impact: impact.title))


def _impact(result: InstrumentResult, authored: datetime) -> QuestionnaireImpact:
    return QuestionnaireImpact(
        title=result.definition.title,
        answered_on=long_date(authored.date()),
        lines=tuple(card_lines(result)),
    )
