"""The report summary: kept on write it equals its recomputation from the ledger tables, and reports read
from it equal reports read from the ledger tables, number for number, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.reports.measures import Dimension, Granularity
from stratcare.reports.query import ReportQuery
from stratcare.store import SqlLedgers, schema
from stratcare.store.migrate import alembic_config
from stratcare.store.report_summary_rebuild import rebuild_report_summary
from stratcare.store.reports import SqlReports
from stratcare.store.reports_from_summary import summarised

from .history import CLINICS, DAYS, EDGE, START, History, issued, write_history

SUMMARY = (schema.report_patient_days, schema.report_card_days, schema.report_override_days)


async def rows_of(connection: AsyncConnection, table: Table) -> list[dict[str, Any]]:
    result = await connection.execute(select(table).order_by(*table.primary_key.columns))
    return [dict(row) for row in result.mappings()]


@pytest.fixture(params=[1, 2])
async def history(request: pytest.FixtureRequest, ledgers: SqlLedgers) -> SqlLedgers:
    await write_history(ledgers, seed=request.param)
    return ledgers


async def test_the_summary_kept_on_write_equals_its_recomputation(history: SqlLedgers) -> None:
    async with history.engine.connect() as connection:
        kept = {table.name: await rows_of(connection, table) for table in SUMMARY}
    async with history.engine.begin() as connection:
        await connection.run_sync(rebuild_report_summary)
    async with history.engine.connect() as connection:
        rebuilt = {table.name: await rows_of(connection, table) for table in SUMMARY}
    assert all(kept.values())
    assert kept == rebuilt


async def test_the_history_reaches_every_branch(history: SqlLedgers) -> None:
    """The comparisons below mean something: days left open by the window's edge, signed referrals
    from feedback and from the ServiceRequest's status, and calls without a clinic."""
    days, statuses = schema.report_patient_days, schema.referral_statuses
    window = int(EDGE.total_seconds())
    async with history.engine.connect() as connection:
        open_days = await connection.scalar(
            select(func.count()).where(days.c.risk_age > window, days.c.risk_least_age <= window)
        )
        signed_by_status = await connection.scalar(
            select(func.count()).where(statuses.c.signed_at.is_not(None))
        )
        unrecorded = await connection.scalar(select(func.count()).where(days.c.clinic == "unrecorded"))
    assert open_days
    assert signed_by_status
    assert unrecorded


QUERIES = [
    ReportQuery(start=START, end=START + timedelta(days=DAYS)),
    ReportQuery(start=START + timedelta(days=5), end=START + timedelta(days=12), by=(Dimension.PERIOD,)),
    ReportQuery(
        start=START,
        end=START + timedelta(days=DAYS),
        by=(Dimension.CLINIC, Dimension.CLINICIAN, Dimension.WORKFLOW_POINT),
        granularity=Granularity.DAY,
    ),
    ReportQuery(
        start=START - timedelta(days=3),
        end=START + timedelta(days=9),
        clinics=frozenset({str(CLINICS[0]), "unrecorded"}),
        by=(Dimension.WORKFLOW_POINT, Dimension.PERIOD),
        granularity=Granularity.MONTH,
    ),
    ReportQuery(start=START, end=START + timedelta(days=DAYS), episode_window=timedelta(days=1)),
    ReportQuery(start=START, end=START + timedelta(days=DAYS), episode_window=timedelta(days=90)),
    ReportQuery(start=START, end=START + timedelta(days=DAYS), clinics=frozenset()),
]


async def measured(connection: AsyncConnection, query: ReportQuery, from_summary: bool) -> list[Any]:
    reports = SqlReports(connection, from_summary=from_summary)
    report = await reports.report(query)
    return [
        report.patients,
        report.overall,
        report.cards,
        report.override_reasons,
        await reports.missed_patients(query),
        await reports.card_counts(replace(query, clinicians=frozenset({"Practitioner/doc-2"}))),
    ]


async def test_reports_from_the_summary_equal_reports_from_the_ledger(history: SqlLedgers) -> None:
    async with history.engine.connect() as connection:
        for query in QUERIES:
            assert summarised(query)
            summary = await measured(connection, query, from_summary=True)
            ledger = await measured(connection, query, from_summary=False)
            assert summary == ledger, query
            if query.clinics != frozenset():
                assert summary[0], query
                assert summary[2], query


@pytest.mark.parametrize(
    "query",
    [
        ReportQuery(start=START + timedelta(hours=6), end=START + timedelta(days=DAYS)),
        ReportQuery(start=START, end=START + timedelta(days=DAYS), clinicians=frozenset({"x"})),
    ],
)
def test_parts_of_days_and_clinician_filters_read_the_ledger(query: ReportQuery) -> None:
    assert not summarised(query)


async def test_the_migrations_backfill_equals_the_rebuild(history: SqlLedgers) -> None:
    """Revision 0007 backfills the summary from the rows already stored, as the rebuild computes it
    (from before 0007 no referral status was kept, so none signs a referral here)."""
    async with history.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0006"))
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0007"))
    async with history.engine.connect() as connection:
        backfilled = {table.name: await rows_of(connection, table) for table in SUMMARY}
    async with history.engine.begin() as connection:
        await connection.run_sync(rebuild_report_summary)
    async with history.engine.connect() as connection:
        rebuilt = {table.name: await rows_of(connection, table) for table in SUMMARY}
    assert all(backfilled.values())
    assert backfilled == rebuilt


@pytest.mark.parametrize("from_summary", [True, False])
async def test_red_flag_and_critical_flag_cards_identify_no_one(
    ledgers: SqlLedgers, from_summary: bool
) -> None:
    history = History(random.Random(0))
    for action in ("red-flag", "flag:phq9:item-9"):
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(history.call("p1", str(CLINICS[0])), [], [issued(action)])
    async with ledgers.engine.connect() as connection:
        report = await SqlReports(connection, from_summary=from_summary).report(QUERIES[0])
    assert report.patients == []
    assert [row.cards for row in report.cards] == [2]
