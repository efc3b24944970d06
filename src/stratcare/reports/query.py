"""What a report is asked for: a period, the clinics it may show, how its rows are grouped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stratcare.reports.measures import Dimension, Granularity, Vocabulary

DEFAULT_EPISODE_WINDOW = timedelta(days=28)
"""A screen counts for the episode when authored at most this long before the hook call. Four weeks: the
STarT Back items ask about the last two weeks and NICE NG59 (1.1.2) stratifies each new episode at first
contact, so a screen from the last two recall periods still describes the episode being seen."""


@dataclass(frozen=True)
class ReportQuery:
    """``start`` inclusive, ``end`` exclusive, both timezone-aware; ``clinics`` (``clinicians``) None: all."""

    start: datetime
    end: datetime
    clinics: frozenset[str] | None = None
    clinicians: frozenset[str] | None = None
    by: tuple[Dimension, ...] = (Dimension.CLINIC,)
    granularity: Granularity = Granularity.WEEK
    episode_window: timedelta = DEFAULT_EPISODE_WINDOW
    vocabulary: Vocabulary = field(default_factory=Vocabulary)

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("the period must end after it starts")
        if len(set(self.by)) != len(self.by):
            raise ValueError("a dimension is named twice")
