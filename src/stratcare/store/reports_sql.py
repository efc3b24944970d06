"""SQL functions the report queries need whose spelling differs between SQLite and PostgreSQL.

Each is one expression compiled per dialect, so a report is the same query on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from stratcare.reports.measures import Granularity


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
