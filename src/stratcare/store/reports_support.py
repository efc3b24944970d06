"""Clinician support from the store: the clinician's recent fidelity, read before their card is answered."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from stratcare.engine.ports import IssuedCard
from stratcare.reports.measures import Dimension
from stratcare.reports.query import ReportQuery
from stratcare.reports.settings import ReportSettings
from stratcare.reports.support import FIDELITY_WINDOW, Fidelity, support_note, wants_fidelity, with_support
from stratcare.store.reports import SqlReports

logger = logging.getLogger(__name__)


class SqlClinicianSupport:
    """Implements ``ClinicianSupport``; asks the store only when the clinic sets a fidelity level."""

    def __init__(self, engine: AsyncEngine, settings: ReportSettings) -> None:
        self._engine = engine
        self._settings = settings

    async def annotate(
        self, clinic: str | None, clinician: str | None, now: datetime, cards: Sequence[IssuedCard]
    ) -> list[IssuedCard]:
        fidelity = None
        if cards and clinician and wants_fidelity(self._settings, clinic):
            fidelity = await self._fidelity(clinic, clinician, now)
        return with_support(cards, support_note(self._settings, clinic, fidelity))

    async def _fidelity(self, clinic: str | None, clinician: str, now: datetime) -> Fidelity | None:
        # Whole UTC days, today's included: read from the report summary's few card days.
        tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
        query = ReportQuery(
            start=tomorrow - FIDELITY_WINDOW,
            end=tomorrow,
            clinics=frozenset({clinic}) if clinic else None,
            clinicians=frozenset({clinician}),
            by=(Dimension.CLINICIAN,),
        )
        try:
            async with self._engine.connect() as connection:
                rows = await SqlReports(connection).card_counts(query)
        except SQLAlchemyError:
            # Support is a courtesy: a store hiccup must not cost the clinician the card itself.
            logger.warning("clinician fidelity unavailable", exc_info=True)
            return None
        if not rows:
            return Fidelity(0, 0)
        return Fidelity(rows[0].risk_decisions, rows[0].risk_decisions_matched)
