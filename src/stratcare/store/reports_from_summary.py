"""Report measures read from the report summary (``store.report_summary``) instead of the ledger tables.

The summary answers a report over whole UTC days for the shipped vocabulary (``summarised``); others go
to the ledger tables (``store.reports``), with the same result. The patient rows are the raw query's:
per patient at a clinic, the first identifying call of the period (the earliest identifying day's), the
newest screen of the period with a risk group (and with a chronicity) recent enough for the episode
window, and the referral flags of any day. A day's newest screen is kept with its age; when it is too
old for the window but an older screen of that day is young enough (its least age), that day is read
from the ledger tables, which happens only when one patient had calls on one day either side of the
window's edge.

"Newest" is picked in one aggregate: a candidate is written ``YYYY-MM-DD`` + value, so the greatest
candidate is the latest day's.
"""

from __future__ import annotations

from datetime import UTC, time
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
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


def _settled(query: ReportQuery, fact: str) -> ColumnElement[str]:
    """The day's candidate for ``fact`` when the day's newest screen is young enough."""
    candidate = iso_day(days.c.day) + days.c[SCREEN_COLUMNS[fact]]
    return case((days.c[f"{fact}_age"] <= _window(query), candidate), else_=None)


def _reopened(query: ReportQuery, fact: str) -> Select[Any]:
    """Candidates for the days whose newest ``fact`` screen is too old and an older one is not, from the
    ledger tables: that day's newest screen young enough."""
    window = _window(query)
    open_days = (
        select(days.c.clinic, days.c.day, days.c.patient_id)
        .where(*_scope(query, days), days.c[f"{fact}_age"] > window, days.c[f"{fact}_least_age"] <= window)
        .cte(f"open_{fact}_days")
    )
    value = assessments.c[SCREEN_COLUMNS[fact]]
    same_day = and_(
        calls.c.patient_id == open_days.c.patient_id,
        func.coalesce(calls.c.clinic, UNRECORDED_CLINIC) == open_days.c.clinic,
        utc_date(calls.c.received_at) == open_days.c.day,
    )
    ranked = (
        select(
            open_days.c.clinic,
            open_days.c.patient_id,
            (iso_day(open_days.c.day) + value).label("candidate"),
            func.row_number()
            .over(
                partition_by=[open_days.c.clinic, open_days.c.day, open_days.c.patient_id],
                order_by=[calls.c.received_at.desc(), assessments.c.id.desc()],
            )
            .label("rank"),
        )
        .select_from(
            open_days.join(calls, same_day).join(assessments, assessments.c.hook_call_id == calls.c.id)
        )
        .where(
            assessments.c.kind == "scored",
            value.is_not(None),
            assessments.c.authored.is_not(None),
            epoch_seconds(calls.c.received_at) - epoch_seconds(assessments.c.authored) <= window,
        )
        .cte(f"reopened_{fact}")
    )
    return select(ranked.c.clinic, ranked.c.patient_id, ranked.c.candidate).where(ranked.c.rank == 1)


def _candidates(query: ReportQuery) -> CTE:
    no_day, no_text = cast(null(), Date), cast(null(), String)
    branches = [
        select(
            days.c.clinic,
            days.c.patient_id,
            case((days.c.identified_at.is_not(None), days.c.day), else_=None).label("first_day"),
            *(_settled(query, fact).label(fact) for fact in SCREENS),
            _flag(days.c.pended).label("pended"),
            _flag(days.c.signed).label("signed"),
            _flag(days.c.signed_high).label("signed_high"),
        ).where(*_scope(query, days))
    ]
    for fact in SCREENS:
        reopened = _reopened(query, fact).subquery(f"reopened_{fact}_days")
        branches.append(
            select(
                reopened.c.clinic,
                reopened.c.patient_id,
                no_day.label("first_day"),
                *((reopened.c.candidate if other == fact else no_text).label(other) for other in SCREENS),
                literal(0).label("pended"),
                literal(0).label("signed"),
                literal(0).label("signed_high"),
            )
        )
    first, *others = branches
    return first.union_all(*others).cte("patient_day_candidates")


def summary_patient_rows(query: ReportQuery) -> Select[Any]:
    """The per-patient rows of the period, with the columns of ``store.reports``' ``patients``."""
    candidates = _candidates(query)
    facts = (
        select(
            candidates.c.clinic,
            candidates.c.patient_id,
            func.min(candidates.c.first_day).label("first_day"),
            *(func.max(candidates.c[fact]).label(fact) for fact in SCREENS),
            *(func.max(candidates.c[f]).label(f) for f in ("pended", "signed", "signed_high")),
        )
        .group_by(candidates.c.clinic, candidates.c.patient_id)
        .cte("patient_facts")
    )
    first = days.alias("first_day")
    found = and_(
        first.c.clinic == facts.c.clinic,
        first.c.day == facts.c.first_day,
        first.c.patient_id == facts.c.patient_id,
        *_scope(query, first),
    )
    return select(
        facts.c.clinic,
        facts.c.patient_id,
        first.c.clinician,
        func.coalesce(first.c.workflow_point, CLINICIAN_WORKFLOW).label("workflow_point"),
        period_start(first.c.identified_at, query.granularity).label("period"),
        first.c.identified_at,
        first.c.fhir_server,
        func.substr(facts.c.risk, DAY_LENGTH + 1).label("risk_group"),
        func.substr(facts.c.chronicity, DAY_LENGTH + 1).label("chronicity"),
        facts.c.pended,
        facts.c.signed,
        facts.c.signed_high,
    ).select_from(facts.join(first, found))


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
