"""How old a screen is, and how a card says when it was made.

A screen is current while its age in days is within the pathway's ``screenWindowDays``: the STarT Back
items ask about the last 2 weeks and NICE NG59 (1.1.2) stratifies each new episode, so an older screen
describes an earlier episode and gives no risk group. The window itself is content (the PlanDefinition).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stratcare.instruments.results import DatePrecision, ResponseSource, ScreenDate

CLOCK_DRIFT = timedelta(days=1)
"""A screen dated up to a day after ``now`` is clock drift between systems and counts as made now."""


def screen_age_days(dated: ScreenDate | None, now: datetime) -> int | None:
    """Whole days from the start of the screen's date to ``now``; None when undated or dated in the future."""
    if dated is None or dated.instant > now + CLOCK_DRIFT:
        return None
    return max(0, (now - dated.instant).days)


def is_current(source: ResponseSource, now: datetime, window_days: int) -> bool:
    age = screen_age_days(source.dated, now)
    return age is not None and age <= window_days


def recorded_date(dated: ScreenDate) -> str:
    """The date as the record gives it, at its own precision (a FHIR date: ``2026``, ``2026-11``, ...)."""
    day = dated.instant.date()
    if dated.precision == "year":
        return f"{day.year:04d}"
    if dated.precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def _calendar_date(instant: datetime, precision: DatePrecision) -> str:
    day = instant.date()
    if precision == "year":
        return f"in {day.year}"
    if precision == "month":
        return f"in {day:%B} {day.year}"
    return f"on {day.day} {day:%B} {day.year}"


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def _how_long_ago(days: int, *, at_most: bool) -> str:
    """``5 weeks ago``; rounded up when ``days`` is an upper bound (a partial date), down otherwise."""
    if days == 0:
        return "today"
    if days == 1 and not at_most:
        return "yesterday"
    for limit, unit, length in ((28, "day", 1), (61, "week", 7), (730, "month", 30)):
        if days < limit:
            return _plural(-(-days // length) if at_most else days // length, unit)
    return _plural(-(-days // 365) if at_most else days // 365, "year")


def date_in_words(instant: datetime, precision: DatePrecision, now: datetime) -> str:
    """``on 3 March 2021 (5 years ago)``; month or year alone when that is all the record says."""
    when = _calendar_date(instant, precision)
    if instant > now + CLOCK_DRIFT:
        return f"{when}, which is in the future (a recording error)"
    # Calendar days, as a clinician counts them: yesterday evening is "yesterday", not "today".
    age = max(0, (now.astimezone(UTC).date() - instant.astimezone(UTC).date()).days)
    # A partial date is aged from the start of its period: its age is an upper bound.
    at_most = precision in ("year", "month") and age > 0
    return f"{when} ({'up to ' if at_most else ''}{_how_long_ago(age, at_most=at_most)})"
