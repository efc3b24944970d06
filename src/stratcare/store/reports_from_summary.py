"""Report measures read from the report summary (``store.report_summary``) instead of the ledger tables.

The summary answers a report over whole UTC days for the shipped vocabulary (``summarised``); others go
to the ledger tables (``store.reports``), with the same result. The patient rows are the raw query's:
per patient at a clinic, the first identifying call of the period (the earliest identifying day's), the
newest screen of the period with a risk group (and with a chronicity) recent enough for the episode
window, and the referral flags of any day. A day's newest screen is kept with its age; when it is too
old for the window but an older screen of that day is young enough (its least age), that day is read
from the ledger tables, which happens only when one patient had calls on one day either side of the
window's edge.

All of it is one aggregate over the period's patient days, with no join: a day's value is written after
its date (``_dated``), so the least is the first day's and the greatest the latest day's.
"""

from __future__ import annotations

from datetime import UTC, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    literal,
    select,
)

from stratcare.reports.measures import CLINICIAN_WORKFLOW, UNRECORDED_CLINIC, Dimension
from stratcare.reports.query import ReportQuery
from stratcare.store import schema
from stratcare.store.report_summary import NO_CLINICIAN, NO_REASON, SCREEN_COLUMNS, SCREENS, VOCABULARY
from stratcare.store.reports_sql import day_period, epoch_seconds, iso_day, period_start, utc_date

days, card_days, override_days = (
    schema.report_patient_days,
    schema.report_card_days,
    schema.report_override_days,
)
calls, assessments = schema.hook_calls, schema.assessments
DAY_LENGTH = len("YYYY-MM-DD")


def summarised(query: ReportQuery, *, by_patient: bool = True) -> bool:
    """Whether the summary answers ``query``: whole UTC days, the summary's vocabulary and, for patient
    measures (counted at the first identifying call, whoever made it), no clinician filter."""
    whole_days = all(moment.astimezone(UTC).time() == time() for moment in (query.start, query.end))
    clinicians = query.clinicians is None or not by_patient
    return whole_days and clinicians and query.vocabulary == VOCABULARY


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _scope(query: ReportQuery, table: Any) -> list[ColumnElement[bool]]:
    """The days and clinics of ``query`` (and its clinicians, on a table keyed by clinician)."""
    start, end = (moment.astimezone(UTC).date() for moment in (query.start, query.end))
    conditions = [table.c.day >= start, table.c.day < end]
    if query.clinics is not None:
        conditions.append(table.c.clinic.in_(sorted(query.clinics)))
    if query.clinicians is not None and table in (card_days, override_days):
        conditions.append(table.c.clinician.in_(sorted(query.clinicians)))
    return conditions


def _window(query: ReportQuery) -> int:
    return int(query.episode_window.total_seconds())


def _dated(value: ColumnElement[Any]) -> ColumnElement[str]:
    """The patient day's date, then ``-`` for None or ``+`` and ``value``: of a patient's days, the least
    of these is the earliest day's value, the greatest the latest day's."""
    return iso_day(days.c.day) + case((value.is_(None), literal("-")), else_=literal("+") + value)


def _undated(dated: ColumnElement[str | None]) -> ColumnElement[str | None]:
    return case(
        (func.substr(dated, DAY_LENGTH + 1, 1) == "+", func.substr(dated, DAY_LENGTH + 2)),
        else_=None,
    )


def _reopened(query: ReportQuery, fact: str) -> ColumnElement[str]:
    """For a day whose newest ``fact`` screen is too old and an older one is not: from the ledger tables,
    the value of that day's newest screen young enough (the patient's few calls, by index)."""
    value = assessments.c[SCREEN_COLUMNS[fact]]
    return (
        select(value)
        .select_from(calls.join(assessments, assessments.c.hook_call_id == calls.c.id))
        .where(
            calls.c.patient_id == days.c.patient_id,
            func.coalesce(calls.c.clinic, UNRECORDED_CLINIC) == days.c.clinic,
            utc_date(calls.c.received_at) == days.c.day,
            assessments.c.kind == "scored",
            value.is_not(None),
            assessments.c.authored.is_not(None),
            epoch_seconds(calls.c.received_at) - epoch_seconds(assessments.c.authored) <= _window(query),
        )
        .order_by(calls.c.received_at.desc(), assessments.c.id.desc())
        .limit(1)
        .correlate(days)
        .scalar_subquery()
    )


def _screen(query: ReportQuery, fact: str) -> ColumnElement[str]:
    """The day's dated ``fact`` for the episode window: its newest screen's when young enough, else an
    older one's when one is (``_reopened``), else none."""
    window = _window(query)
    return case(
        (days.c[f"{fact}_age"] <= window, _dated(days.c[SCREEN_COLUMNS[fact]])),
        (days.c[f"{fact}_least_age"] <= window, _dated(_reopened(query, fact))),
        else_=None,
    )


IDENTIFICATION = ("clinician", "workflow_point", "fhir_server")


def summary_patient_rows(query: ReportQuery) -> Select[Any]:
    """The per-patient rows of the period, with the columns of ``store.reports``' ``patients``: one
    aggregate over the period's patient days."""
    identified = days.c.identified_at.is_not(None)
    facts = (
        select(
            days.c.clinic,
            days.c.patient_id,
            func.min(days.c.identified_at).label("identified_at"),
            *(func.min(case((identified, _dated(days.c[n])))).label(n) for n in IDENTIFICATION),
            *(func.max(_screen(query, fact)).label(fact) for fact in SCREENS),
            *(func.max(_flag(days.c[f])).label(f) for f in ("pended", "signed", "signed_high")),
        )
        .where(*_scope(query, days))
        .group_by(days.c.clinic, days.c.patient_id)
        .having(func.min(days.c.identified_at).is_not(None))
        .cte("patient_facts")
    )
    return select(
        facts.c.clinic,
        facts.c.patient_id,
        _undated(facts.c.clinician).label("clinician"),
        func.coalesce(_undated(facts.c.workflow_point), CLINICIAN_WORKFLOW).label("workflow_point"),
        period_start(facts.c.identified_at, query.granularity).label("period"),
        facts.c.identified_at,
        _undated(facts.c.fhir_server).label("fhir_server"),
        _undated(facts.c.risk).label("risk_group"),
        _undated(facts.c.chronicity).label("chronicity"),
        facts.c.pended,
        facts.c.signed,
        facts.c.signed_high,
    )


def _dimension(query: ReportQuery, dimension: Dimension, table: Any) -> ColumnElement[Any]:
    columns: dict[Dimension, ColumnElement[Any]] = {
        Dimension.CLINIC: table.c.clinic,
        Dimension.CLINICIAN: func.nullif(table.c.clinician, NO_CLINICIAN),
        Dimension.PERIOD: day_period(table.c.day, query.granularity),
        Dimension.WORKFLOW_POINT: table.c.workflow_point,
    }
    return columns[dimension].label(dimension.value)


def summary_card_counts_query(query: ReportQuery) -> Select[Any]:
    groups = [_dimension(query, dimension, card_days) for dimension in query.by]
    counts = ("cards", "with_feedback", "accepted", "risk_decisions", "risk_decisions_matched")
    return (
        select(*groups, *(func.sum(card_days.c[name]).label(name) for name in counts))
        .where(*_scope(query, card_days))
        .group_by(*groups)
        .order_by(*groups)
    )


def summary_override_reasons_query(query: ReportQuery) -> Select[Any]:
    groups = [_dimension(query, dimension, override_days) for dimension in query.by]
    system = func.nullif(override_days.c.reason_system, NO_REASON).label("system")
    code = func.nullif(override_days.c.reason_code, NO_REASON).label("code")
    return (
        select(*groups, system, code, func.sum(override_days.c["items"]).label("count"))
        .where(*_scope(query, override_days))
        .group_by(*groups, system, code)
        .order_by(*groups, system, code)
    )
