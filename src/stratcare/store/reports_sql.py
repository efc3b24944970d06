"""SQL functions the report queries need whose spelling differs between SQLite and PostgreSQL.

Each is one expression compiled per dialect, so a report is the same query on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, Select, String, and_, case, func, not_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from stratcare.reports.measures import Granularity, Vocabulary
from stratcare.store import schema


class period_start(FunctionElement[str]):
    """The first day (``YYYY-MM-DD``, UTC) of the day, ISO week (Monday) or month holding a timestamp."""

    type = String()
    inherit_cache = True

    def __init__(self, value: ColumnElement[Any], granularity: Granularity) -> None:
        self.granularity = granularity
        super().__init__(value)


class epoch_seconds(FunctionElement[int]):
    """Seconds since 1970-01-01 UTC."""

    type = Integer()
    inherit_cache = True


_SQLITE_PERIOD = {
    Granularity.DAY: "strftime('%Y-%m-%d', {0})",
    Granularity.WEEK: "date({0}, '-6 days', 'weekday 1')",
    Granularity.MONTH: "strftime('%Y-%m-01', {0})",
}


@compiles(period_start, "sqlite")
def _period_sqlite(element: period_start, compiler: SQLCompiler, **kw: Any) -> str:
    return _SQLITE_PERIOD[element.granularity].format(compiler.process(element.clauses, **kw))


@compiles(period_start, "postgresql")
def _period_postgresql(element: period_start, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('{element.granularity.value}', ({value}) AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


class utc_date(FunctionElement[date]):
    """The UTC calendar date of a timestamp."""

    type = Date()
    inherit_cache = True


class day_period(FunctionElement[str]):
    """``period_start`` for a date: the first day (``YYYY-MM-DD``) of its day, ISO week or month."""

    type = String()
    inherit_cache = True

    def __init__(self, value: ColumnElement[Any], granularity: Granularity) -> None:
        self.granularity = granularity
        super().__init__(value)


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element: utc_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(day_period, "sqlite")
def _day_period_sqlite(element: day_period, compiler: SQLCompiler, **kw: Any) -> str:
    return _SQLITE_PERIOD[element.granularity].format(compiler.process(element.clauses, **kw))


@compiles(day_period, "postgresql")
def _day_period_postgresql(element: day_period, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('{element.granularity.value}', CAST({value} AS TIMESTAMP)), 'YYYY-MM-DD')"


class bound_moment(FunctionElement[datetime]):
    """A bound timestamp as the database compares it with stored ones (typed on PostgreSQL; SQLite keeps
    the text ``UtcDateTime`` binds, which a CAST would turn into a number)."""

    inherit_cache = True


@compiles(bound_moment, "sqlite")
def _bound_moment_sqlite(element: bound_moment, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(bound_moment, "postgresql")
def _bound_moment_postgresql(element: bound_moment, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP WITH TIME ZONE)"


class day_number(FunctionElement[int]):
    """Days from 1970-01-01 to a date (a big integer, to be scaled)."""

    type = BigInteger()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


def identifying_action(action: ColumnElement[str], vocabulary: Vocabulary) -> ColumnElement[bool]:
    """SQL for ``reports.measures.identifies``."""
    return and_(
        action.not_in(sorted(vocabulary.off_pathway_actions)),
        not_(action.startswith(vocabulary.flag_action_prefix, autoescape=True)),
    )


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0 (to sum or take the max of)."""
    return case((condition, 1), else_=0)


def card_verdicts_query(risk_actions: Iterable[str], groups: Sequence[ColumnElement[Any]]) -> Select[Any]:
    """Per group of ``groups`` (over the calls and their cards): the cards, how many had feedback, were
    accepted, and of the risk cards (``risk_actions``) how many were decided and how many accepted. The
    report and the summary's rebuild both count cards this way."""
    cards, calls, feedback = schema.cards, schema.hook_calls, schema.feedback
    verdicts = (
        select(feedback.c.card_uuid, func.max(flag(feedback.c.outcome == "accepted")).label("accepted"))
        .group_by(feedback.c.card_uuid)
        .subquery("verdicts")
    )
    risk_card = cards.c.pathway_action.in_(sorted(risk_actions))
    decided = verdicts.c.card_uuid.is_not(None)
    return select(
        *groups,
        func.count().label("cards"),
        func.count(verdicts.c.card_uuid).label("with_feedback"),
        func.coalesce(func.sum(verdicts.c.accepted), 0).label("accepted"),
        func.sum(flag(and_(risk_card, decided))).label("risk_decisions"),
        func.sum(flag(and_(risk_card, verdicts.c.accepted == 1))).label("risk_decisions_matched"),
    ).select_from(
        cards.join(calls, calls.c.id == cards.c.hook_call_id).outerjoin(
            verdicts, verdicts.c.card_uuid == cards.c.uuid
        )
    )
