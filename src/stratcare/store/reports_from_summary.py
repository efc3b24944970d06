"""Report measures read from the report summary (``store.report_summary``) instead of the ledger tables.

The summary answers a report over whole UTC days for the shipped vocabulary (``summarised``); others go
to the ledger tables (``store.reports``), with the same result. The patient rows are the raw query's:
per patient at a clinic, the first identifying call of the period (the earliest identifying day's), the
newest screen of the period with a risk group (and with a pain-duration band) recent enough for the episode
window, and the referral flags of any day. A day's newest screen is kept with its age; when it is too
old for the window but an older screen of that day is young enough (its least age), that day is read
from the ledger tables, which happens only when one patient had calls on one day either side of the
window's edge.

All of it is one aggregate of numbers over the period's patient days: a day's texts are label ids, keyed
by the day (``_keyed``), so the least key is the first day's and the greatest the latest day's; the few
labels are looked up afterwards.
"""

from __future__ import annotations

from datetime import UTC, time
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Select,
    and_,
    case,
    func,
    select,
)

from stratcare.reports.measures import CLINICIAN_WORKFLOW, UNRECORDED_CLINIC, Dimension
from stratcare.reports.query import ReportQuery
from stratcare.store import schema
from stratcare.store.report_summary import (
    IDENTIFICATION_LABELS,
    NO_CLINICIAN,
    NO_REASON,
    SCREEN_COLUMNS,
    SCREENS,
    VOCABULARY,
    screen_values,
)
from stratcare.store.reports_sql import day_number, day_period, epoch_seconds, flag, period_start, utc_date

days, card_days, override_days, labels = (
    schema.report_patient_days,
    schema.report_card_days,
    schema.report_override_days,
    schema.report_labels,
)
calls, assessments = schema.hook_calls, schema.assessments


def summarised(query: ReportQuery, *, by_patient: bool = True) -> bool:
    """Whether the summary answers ``query``: whole UTC days, the summary's vocabulary and, for patient
    measures (counted at the first identifying call, whoever made it), no clinician filter."""
    whole_days = all(moment.astimezone(UTC).time() == time() for moment in (query.start, query.end))
    clinicians = query.clinicians is None or not by_patient
    return whole_days and clinicians and query.vocabulary == VOCABULARY


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


LABEL_SPAN = 2**40
"""Label ids stay below this; a patient day's labelled fact is keyed ``day number × LABEL_SPAN + id``."""


def _keyed(label: ColumnElement[Any]) -> ColumnElement[int]:
    """A day's label keyed by the day (0 for none): of a patient's days, the least key is the earliest
    day's label, the greatest the latest day's."""
    return day_number(days.c.day) * LABEL_SPAN + func.coalesce(label, 0)


def _reopened(query: ReportQuery, fact: str) -> ColumnElement[int]:
    """For a day whose newest ``fact`` screen is too old and an older one is not: from the ledger tables,
    the label of that day's newest screen young enough (the patient's few calls, by index)."""
    value = assessments.c[SCREEN_COLUMNS[fact]]
    return (
        select(labels.c.id)
        .select_from(
            calls.join(assessments, assessments.c.hook_call_id == calls.c.id).join(
                labels, labels.c.label == value
            )
        )
        .where(
            calls.c.patient_id == days.c.patient_id,
            func.coalesce(calls.c.clinic, UNRECORDED_CLINIC) == days.c.clinic,
            utc_date(calls.c.received_at) == days.c.day,
            assessments.c.kind == "scored",
            screen_values(fact, value),
            assessments.c.authored.is_not(None),
            epoch_seconds(calls.c.received_at) - epoch_seconds(assessments.c.authored) <= _window(query),
        )
        .order_by(calls.c.received_at.desc(), assessments.c.id.desc())
        .limit(1)
        .correlate(days)
        .scalar_subquery()
    )


def _settled(query: ReportQuery, fact: str) -> ColumnElement[int]:
    """The day's keyed ``fact`` when its newest screen is young enough for the episode window."""
    return case((days.c[f"{fact}_age"] <= _window(query), _keyed(days.c[f"{fact}_label"])), else_=None)


def _reopened_days(query: ReportQuery, fact: str) -> CTE:
    """Per patient, the latest keyed ``fact`` of the days whose newest screen is too old and an older one
    is not; few, found by the partial index on days whose newest screen is not their youngest."""
    window = _window(query)
    age, least_age = days.c[f"{fact}_age"], days.c[f"{fact}_least_age"]
    return (
        select(days.c.clinic, days.c.patient_id, func.max(_keyed(_reopened(query, fact))).label("key"))
        .where(*_scope(query, days), age > least_age, age > window, least_age <= window)
        .group_by(days.c.clinic, days.c.patient_id)
        .cte(f"reopened_{fact}")
    )


def _later(first: ColumnElement[Any], second: ColumnElement[Any]) -> ColumnElement[Any]:
    """The greater of two keys, either possibly None."""
    return case((second.is_(None), first), (first.is_(None), second), (second > first, second), else_=first)


def summary_patient_rows(query: ReportQuery) -> Select[Any]:
    """The per-patient rows of the period, with the columns of ``store.reports``' ``patients``: one
    aggregate of numbers over the period's patient days (one the database can hash), the few reopened
    days', then the labels looked up."""
    identified = days.c.identified_at.is_not(None)
    facts = (
        select(
            days.c.clinic,
            days.c.patient_id,
            func.min(days.c.identified_at).label("identified_at"),
            *(func.min(case((identified, _keyed(days.c[n])))).label(n) for n in IDENTIFICATION_LABELS),
            *(func.max(_settled(query, fact)).label(fact) for fact in SCREENS),
            *(func.max(flag(days.c[f])).label(f) for f in ("pended", "signed", "signed_high")),
        )
        .where(*_scope(query, days))
        .group_by(days.c.clinic, days.c.patient_id)
        .having(func.min(days.c.identified_at).is_not(None))
        .cte("patient_facts")
    )
    joined: FromClause = facts
    screens: dict[str, ColumnElement[Any]] = {}
    for fact in SCREENS:
        reopened = _reopened_days(query, fact)
        joined = joined.outerjoin(
            reopened, and_(reopened.c.clinic == facts.c.clinic, reopened.c.patient_id == facts.c.patient_id)
        )
        screens[fact] = _later(facts.c[fact], reopened.c.key)
    keys = {name: facts.c[name] for name in IDENTIFICATION_LABELS} | screens
    named = {name: labels.alias(f"{name}_text") for name in keys}
    for name, label in named.items():
        joined = joined.outerjoin(label, label.c.id == keys[name] % LABEL_SPAN)
    return select(
        facts.c.clinic,
        facts.c.patient_id,
        named["clinician_label"].c.label.label("clinician"),
        func.coalesce(named["workflow_point_label"].c.label, CLINICIAN_WORKFLOW).label("workflow_point"),
        period_start(facts.c.identified_at, query.granularity).label("period"),
        facts.c.identified_at,
        named["fhir_server_label"].c.label.label("fhir_server"),
        named["risk"].c.label.label("risk_group"),
        named["duration"].c.label.label("duration_band"),
        facts.c.pended,
        facts.c.signed,
        facts.c.signed_high,
    ).select_from(joined)


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
