"""Report measures computed in the database: one aggregate query per kind of measure, grouped in SQL.

The patient-level query works on common table expressions: the hook calls of the period (at the clinics
asked for), each patient's first identifying call (which fixes their clinician, workflow point and period),
their newest risk group and chronicity, and their referral facts; the outer query groups those per patient
rows by the report's dimensions. Nothing is looped over in Python but the grouped rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    FromClause,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.reports.measures import (
    CLINICIAN_WORKFLOW,
    HIGH_RISK_NOT_REFERRED,
    NOT_STRATIFIED,
    UNRECORDED_CLINIC,
    CardCounts,
    Dimension,
    MissedPatient,
    OverrideReasonCount,
    PatientCounts,
)
from stratcare.reports.page import ReportPage
from stratcare.reports.query import ReportQuery
from stratcare.reports.tables import Report
from stratcare.store import schema
from stratcare.store.reports_from_summary import (
    summarised,
    summary_card_counts_query,
    summary_override_reasons_query,
    summary_patient_rows,
)
from stratcare.store.reports_sql import (
    card_verdicts_query,
    epoch_seconds,
    flag,
    identifying_action,
    period_start,
)
from stratcare.store.schema import UtcDateTime

calls, assessments, cards, feedback = schema.hook_calls, schema.assessments, schema.cards, schema.feedback
statuses = schema.referral_statuses


def _clinic() -> ColumnElement[str]:
    return func.coalesce(calls.c.clinic, UNRECORDED_CLINIC)


def _workflow_point() -> ColumnElement[str]:
    return func.coalesce(calls.c.workflow_point, CLINICIAN_WORKFLOW)


def _in_scope(query: ReportQuery) -> ColumnElement[bool]:
    conditions = [calls.c.received_at >= query.start, calls.c.received_at < query.end]
    if query.clinics is not None:
        conditions.append(_clinic().in_(sorted(query.clinics)))
    if query.clinicians is not None:
        conditions.append(calls.c.user_id.in_(sorted(query.clinicians)))
    return and_(*conditions)


def _period_calls(query: ReportQuery) -> CTE:
    return (
        select(calls.c.id, _clinic().label("clinic"), calls.c.patient_id, calls.c.received_at)
        .where(_in_scope(query))
        .cte("period_calls")
    )


def _identified(query: ReportQuery) -> CTE:
    identifying_card = exists().where(
        cards.c.hook_call_id == calls.c.id,
        identifying_action(cards.c.pathway_action, query.vocabulary),
    )
    ranked = (
        select(
            _clinic().label("clinic"),
            calls.c.patient_id,
            calls.c.user_id.label("clinician"),
            _workflow_point().label("workflow_point"),
            period_start(calls.c.received_at, query.granularity).label("period"),
            calls.c.received_at.label("identified_at"),
            calls.c.fhir_server,
            func.row_number()
            .over(partition_by=[_clinic(), calls.c.patient_id], order_by=[calls.c.received_at, calls.c.id])
            .label("rank"),
        )
        .where(_in_scope(query), identifying_card)
        .cte("identifying_calls")
    )
    return select(ranked).where(ranked.c.rank == 1).cte("identified")


def _newest(
    query: ReportQuery,
    period_calls: CTE,
    column: str,
    name: str,
    among: frozenset[str] | None = None,
) -> CTE:
    """Per patient at a clinic, the newest non-null ``column`` of a scored screen in the episode window
    (only values in ``among``, when given)."""
    value = assessments.c[column]
    ranked = (
        select(
            period_calls.c.clinic,
            period_calls.c.patient_id,
            value.label("value"),
            func.row_number()
            .over(
                partition_by=[period_calls.c.clinic, period_calls.c.patient_id],
                order_by=[period_calls.c.received_at.desc(), assessments.c.id.desc()],
            )
            .label("rank"),
        )
        .select_from(period_calls.join(assessments, assessments.c.hook_call_id == period_calls.c.id))
        .where(
            assessments.c.kind == "scored",
            value.is_not(None) if among is None else value.in_(sorted(among)),
            assessments.c.authored.is_not(None),
            epoch_seconds(period_calls.c.received_at) - epoch_seconds(assessments.c.authored)
            <= int(query.episode_window.total_seconds()),
        )
        .cte(f"{name}_ranked")
    )
    return select(ranked.c.clinic, ranked.c.patient_id, ranked.c.value).where(ranked.c.rank == 1).cte(name)


def _referrals(query: ReportQuery, period_calls: CTE) -> CTE:
    accepted = (
        select(feedback.c.card_uuid).where(feedback.c.outcome == "accepted").group_by(feedback.c.card_uuid)
    ).subquery("accepted_cards")
    seen_signed = exists().where(statuses.c.card_uuid == cards.c.uuid, statuses.c.signed_at.is_not(None))
    signed = and_(cards.c.referral_suggested, or_(accepted.c.card_uuid.is_not(None), seen_signed))
    return (
        select(
            period_calls.c.clinic,
            period_calls.c.patient_id,
            func.max(flag(cards.c.referral_suggested)).label("pended"),
            func.max(flag(signed)).label("signed"),
            func.max(flag(and_(signed, cards.c.risk_group == query.vocabulary.high_risk_group))).label(
                "signed_high"
            ),
        )
        .select_from(
            period_calls.join(cards, cards.c.hook_call_id == period_calls.c.id).outerjoin(
                accepted, accepted.c.card_uuid == cards.c.uuid
            )
        )
        .group_by(period_calls.c.clinic, period_calls.c.patient_id)
        .cte("referrals")
    )


def _patient_rows(query: ReportQuery) -> tuple[CTE, CTE, CTE, CTE]:
    period_calls = _period_calls(query)
    identified = _identified(query)
    risk = _newest(query, period_calls, "risk_group", "newest_risk")
    duration_band = _newest(
        query, period_calls, "band", "newest_duration_band", among=query.vocabulary.duration_bands
    )
    referrals = _referrals(query, period_calls)
    joined = (
        select(
            identified.c.clinic,
            identified.c.patient_id,
            identified.c.clinician,
            identified.c.workflow_point,
            identified.c.period,
            identified.c.identified_at,
            identified.c.fhir_server,
            risk.c.value.label("risk_group"),
            duration_band.c.value.label("duration_band"),
            func.coalesce(referrals.c.pended, 0).label("pended"),
            func.coalesce(referrals.c.signed, 0).label("signed"),
            func.coalesce(referrals.c.signed_high, 0).label("signed_high"),
        )
        .select_from(
            identified.outerjoin(risk, _same_patient(identified, risk))
            .outerjoin(duration_band, _same_patient(identified, duration_band))
            .outerjoin(referrals, _same_patient(identified, referrals))
        )
        .cte("patients")
    )
    return joined, identified, risk, duration_band


def _same_patient(left: CTE, right: CTE) -> ColumnElement[bool]:
    return and_(left.c.clinic == right.c.clinic, left.c.patient_id == right.c.patient_id)


def _patients(query: ReportQuery, from_summary: bool = True) -> FromClause:
    """The per-patient rows of ``query``: from the report summary when it answers the query, else from
    the ledger tables (the same rows either way)."""
    if from_summary and summarised(query):
        return summary_patient_rows(query).cte("patients")
    return _patient_rows(query)[0]


def patient_counts_query(
    query: ReportQuery, patients: FromClause | None = None, *, from_summary: bool = True
) -> Select[Any]:
    patients = _patients(query, from_summary) if patients is None else patients
    high = patients.c.risk_group == query.vocabulary.high_risk_group
    groups = [patients.c[dimension.value] for dimension in query.by]
    return (
        select(
            *groups,
            func.count().label("identified"),
            func.sum(flag(patients.c.risk_group.is_not(None))).label("stratified"),
            func.sum(flag(high)).label("high_risk"),
            func.sum(flag(and_(high, patients.c.duration_band == query.vocabulary.acute))).label(
                "acute_high_risk"
            ),
            func.sum(patients.c.pended).label("referrals_pended"),
            func.sum(patients.c.signed).label("referrals_signed"),
            func.sum(flag(and_(high, patients.c.signed_high == 1))).label("high_risk_referred"),
        )
        .group_by(*groups)
        .order_by(*groups)
    )


def missed_patients_query(query: ReportQuery, *, from_summary: bool = True) -> Select[Any]:
    """Identified but not stratified, and high risk without a signed matched referral, oldest first."""
    patients = _patients(query, from_summary)
    high = patients.c.risk_group == query.vocabulary.high_risk_group
    reason = case(
        (patients.c.risk_group.is_(None), literal(NOT_STRATIFIED)), else_=literal(HIGH_RISK_NOT_REFERRED)
    )
    return (
        select(
            patients.c.clinic,
            patients.c.patient_id,
            patients.c.clinician,
            patients.c.workflow_point,
            patients.c.identified_at,
            patients.c.fhir_server,
            patients.c.risk_group,
            reason.label("reason"),
        )
        .where(or_(patients.c.risk_group.is_(None), and_(high, patients.c.signed_high == 0)))
        .order_by(patients.c.clinic, patients.c.identified_at, patients.c.patient_id)
    )


def risk_group_counts_query(
    query: ReportQuery, patients: FromClause | None = None, *, from_summary: bool = True
) -> Select[Any]:
    patients = _patients(query, from_summary) if patients is None else patients
    groups = [patients.c[dimension.value] for dimension in query.by]
    return (
        select(*groups, patients.c.risk_group, func.count().label("patients"))
        .where(patients.c.risk_group.is_not(None))
        .group_by(*groups, patients.c.risk_group)
    )


def _call_dimension(query: ReportQuery, dimension: Dimension) -> ColumnElement[Any]:
    columns: dict[Dimension, ColumnElement[Any]] = {
        Dimension.CLINIC: _clinic(),
        Dimension.CLINICIAN: calls.c.user_id,
        Dimension.PERIOD: period_start(calls.c.received_at, query.granularity),
        Dimension.WORKFLOW_POINT: _workflow_point(),
    }
    return columns[dimension].label(dimension.value)


def card_counts_query(query: ReportQuery, *, from_summary: bool = True) -> Select[Any]:
    if from_summary and summarised(query, by_patient=False):
        return summary_card_counts_query(query)
    groups = [_call_dimension(query, dimension) for dimension in query.by]
    return (
        card_verdicts_query(query.vocabulary.risk_actions, groups)
        .where(_in_scope(query))
        .group_by(*groups)
        .order_by(*groups)
    )


def override_reasons_query(query: ReportQuery, *, from_summary: bool = True) -> Select[Any]:
    if from_summary and summarised(query, by_patient=False):
        return summary_override_reasons_query(query)
    groups = [_call_dimension(query, dimension) for dimension in query.by]
    system, code = feedback.c.override_reason_system, feedback.c.override_reason_code
    return (
        select(*groups, system.label("system"), code.label("code"), func.count().label("count"))
        .select_from(
            feedback.join(cards, cards.c.uuid == feedback.c.card_uuid).join(
                calls, calls.c.id == cards.c.hook_call_id
            )
        )
        .where(_in_scope(query), feedback.c.outcome == "overridden")
        .group_by(*groups, system, code)
        .order_by(*groups, system, code)
    )


_PATIENTS = Table(
    "report_period_patients",
    MetaData(),
    Column("clinic", Text()),
    Column("patient_id", Text()),
    Column("clinician", Text()),
    Column("workflow_point", Text()),
    Column("period", Text()),
    Column("identified_at", UtcDateTime()),
    Column("fhir_server", Text()),
    Column("risk_group", Text()),
    Column("duration_band", Text()),
    Column("pended", Integer()),
    Column("signed", Integer()),
    Column("signed_high", Integer()),
    prefixes=["TEMPORARY"],
)
"""Per connection, for the length of one report; the same columns as the ``patients`` expression."""

PAGE_DIMENSIONS = (Dimension.CLINIC, Dimension.WORKFLOW_POINT, Dimension.PERIOD)


def _quiet(_message: str) -> None:
    return None


def _count(value: int | None) -> int:
    """A count or sum; a sum over no rows is NULL in SQL."""
    return int(value or 0)


def _group(query: ReportQuery, row: Any) -> dict[str, str | None]:
    return {dimension.value: getattr(row, dimension.value) for dimension in query.by}


def _key(group: dict[str, str | None]) -> tuple[str | None, ...]:
    return tuple(group.values())


class SqlReports:
    """Reads report measures on a connection (read-only; the caller owns the transaction)."""

    def __init__(self, connection: AsyncConnection, *, from_summary: bool = True) -> None:
        """``from_summary=False`` reads the ledger tables even where the report summary would answer."""
        self._connection = connection
        self._from_summary = from_summary

    async def patient_counts(
        self, query: ReportQuery, patients: FromClause | None = None
    ) -> list[PatientCounts]:
        """Patient measures per group; from ``patients`` (a materialised ``patients`` table) when given."""
        source = self._from_summary
        risk_rows = await self._connection.execute(
            risk_group_counts_query(query, patients, from_summary=source)
        )
        by_group: dict[tuple[str | None, ...], dict[str, int]] = {}
        for row in risk_rows:
            by_group.setdefault(_key(_group(query, row)), {})[row.risk_group] = _count(row.patients)
        result = await self._connection.execute(patient_counts_query(query, patients, from_summary=source))
        return [
            PatientCounts(
                group=_group(query, row),
                identified=_count(row.identified),
                stratified=_count(row.stratified),
                risk_groups=by_group.get(_key(_group(query, row)), {}),
                acute_high_risk=_count(row.acute_high_risk),
                high_risk=_count(row.high_risk),
                referrals_pended=_count(row.referrals_pended),
                referrals_signed=_count(row.referrals_signed),
                high_risk_referred=_count(row.high_risk_referred),
            )
            for row in result
        ]

    async def report(self, query: ReportQuery) -> Report:
        """The measures per group of ``query.by``, card measures, override reasons and the overall row."""
        async with self._patients(query) as patients:
            return await self._report(query, patients)

    async def _report(self, query: ReportQuery, patients: FromClause) -> Report:
        overall = await self.patient_counts(replace(query, by=()), patients)
        return Report(
            query=query,
            patients=await self.patient_counts(query, patients),
            cards=await self.card_counts(query),
            override_reasons=await self.override_reasons(query),
            overall=overall[0] if overall else None,
        )

    async def page(self, query: ReportQuery, progress: Callable[[str], None] = _quiet) -> ReportPage:
        """The three reports of the report page: by clinic, by workflow point, by period."""
        reports = []
        progress("finding the patients of the period")
        async with self._patients(query) as patients:
            for step, dimension in enumerate(PAGE_DIMENSIONS, start=1):
                progress(f"counting by {dimension.value.replace('_', ' ')} ({step}/{len(PAGE_DIMENSIONS)})")
                reports.append(await self._report(replace(query, by=(dimension,)), patients))
        return ReportPage(*reports)

    @asynccontextmanager
    async def _patients(self, query: ReportQuery) -> AsyncIterator[FromClause]:
        """The period's per-patient rows, computed once into a temporary table that every grouping reads."""
        connection = self._connection
        await self._tune()
        await connection.run_sync(lambda sync: _PATIENTS.create(sync, checkfirst=False))
        rows = _patients(query, self._from_summary)
        names = [column.name for column in _PATIENTS.columns]
        await connection.execute(insert(_PATIENTS).from_select(names, select(*(rows.c[n] for n in names))))
        yield _PATIENTS
        # After an error the table goes with the transaction's rollback (DDL is transactional on both).
        await connection.run_sync(lambda sync: _PATIENTS.drop(sync, checkfirst=False))

    async def _tune(self) -> None:
        """On PostgreSQL, for this transaction: the period's aggregate hashed in memory (a sort spilled to
        disk is several times slower), by one process (on a few cores, workers each building the same
        hash cost more than they save), with no JIT compilation (longer than the queries it would speed)."""
        if self._connection.dialect.name == "postgresql":
            for setting in ("work_mem = '64MB'", "max_parallel_workers_per_gather = 0", "jit = off"):
                await self._connection.execute(text(f"SET LOCAL {setting}"))

    async def missed_patients(self, query: ReportQuery) -> list[MissedPatient]:
        await self._tune()
        result = await self._connection.execute(missed_patients_query(query, from_summary=self._from_summary))
        return [
            MissedPatient(
                clinic=row.clinic,
                patient_id=row.patient_id,
                clinician=row.clinician,
                workflow_point=row.workflow_point,
                identified_at=row.identified_at,
                fhir_server=row.fhir_server,
                risk_group=row.risk_group,
                reason=row.reason,
            )
            for row in result
        ]

    async def card_counts(self, query: ReportQuery) -> list[CardCounts]:
        result = await self._connection.execute(card_counts_query(query, from_summary=self._from_summary))
        return [
            CardCounts(
                group=_group(query, row),
                cards=_count(row.cards),
                with_feedback=_count(row.with_feedback),
                accepted=_count(row.accepted),
                risk_decisions=_count(row.risk_decisions),
                risk_decisions_matched=_count(row.risk_decisions_matched),
            )
            for row in result
        ]

    async def override_reasons(self, query: ReportQuery) -> list[OverrideReasonCount]:
        result = await self._connection.execute(
            override_reasons_query(query, from_summary=self._from_summary)
        )
        return [
            OverrideReasonCount(_group(query, row), row.system, row.code, _count(row.count)) for row in result
        ]


__all__ = ["UNRECORDED_CLINIC", "SqlReports"]
