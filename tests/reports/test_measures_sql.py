"""Report measures counted by the database from the seeded history (tests/reports/seed.py), number by
number, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stratcare.reports.measures import Dimension, Granularity, PatientCounts
from stratcare.reports.query import ReportQuery
from stratcare.store import SqlLedgers
from stratcare.store.reports import SqlReports

from .seed import CLINIC_A, CLINIC_B, END, REASON_SYSTEM, START, seed_clinics


def report(**changes: Any) -> ReportQuery:
    return ReportQuery(start=START, end=END, **changes)


async def counts(ledgers: SqlLedgers, query: ReportQuery) -> dict[tuple[str | None, ...], PatientCounts]:
    async with ledgers.engine.connect() as connection:
        rows = await SqlReports(connection).patient_counts(query)
    return {tuple(row.group.values()): row for row in rows}


class TestPatientMeasures:
    async def test_per_clinic(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        rows = await counts(ledgers, report())
        assert set(rows) == {(CLINIC_A,), (CLINIC_B,)}
        a, b = rows[(CLINIC_A,)], rows[(CLINIC_B,)]
        assert (a.identified, a.stratified, a.stratification_rate) == (5, 3, 0.6)
        assert a.risk_groups == {"high": 1, "medium": 1, "low": 1}
        assert (a.high_risk, a.acute_high_risk) == (1, 1)
        assert (a.referrals_pended, a.referrals_signed, a.high_risk_referred) == (2, 1, 1)
        assert a.high_risk_referral_rate == 1.0
        assert (b.identified, b.stratified, b.risk_groups) == (1, 1, {"high": 1})
        assert (b.high_risk, b.acute_high_risk) == (1, 0)
        assert (b.referrals_pended, b.referrals_signed, b.high_risk_referred) == (1, 0, 0)
        assert b.high_risk_referral_rate == 0.0

    async def test_per_clinician_at_first_identification(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        rows = await counts(ledgers, report(by=(Dimension.CLINIC, Dimension.CLINICIAN)))
        summary = {key: (row.identified, row.stratified) for key, row in rows.items()}
        assert summary == {
            (CLINIC_A, "Practitioner/doc-1"): (3, 3),
            (CLINIC_A, "Practitioner/doc-2"): (2, 0),
            (CLINIC_B, "Practitioner/doc-3"): (1, 1),
        }

    async def test_by_workflow_point_unrecorded_is_the_clinician(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        rows = await counts(ledgers, report(by=(Dimension.WORKFLOW_POINT,), clinics=frozenset({CLINIC_A})))
        summary = {key: (row.identified, row.stratified) for key, row in rows.items()}
        assert summary == {("clinician",): (3, 1), ("pre-visit",): (1, 1), ("rooming",): (1, 1)}

    @pytest.mark.parametrize(
        ("granularity", "expected"),
        [
            (Granularity.WEEK, {("2025-03-03",): (3, 2), ("2025-03-10",): (3, 2)}),
            (Granularity.MONTH, {("2025-03-01",): (6, 4)}),
            (
                Granularity.DAY,
                {
                    ("2025-03-03",): (1, 1),
                    ("2025-03-04",): (1, 0),
                    ("2025-03-05",): (1, 1),
                    ("2025-03-10",): (1, 1),
                    ("2025-03-11",): (1, 0),
                    ("2025-03-12",): (1, 1),
                },
            ),
        ],
    )
    async def test_per_period(
        self,
        ledgers: SqlLedgers,
        granularity: Granularity,
        expected: dict[tuple[str, ...], tuple[int, int]],
    ) -> None:
        await seed_clinics(ledgers.engine)
        rows = await counts(ledgers, report(by=(Dimension.PERIOD,), granularity=granularity))
        assert {key: (row.identified, row.stratified) for key, row in rows.items()} == expected

    async def test_a_clinic_filter_shows_only_that_clinic(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        assert set(await counts(ledgers, report(clinics=frozenset({CLINIC_B})))) == {(CLINIC_B,)}
        assert await counts(ledgers, report(clinics=frozenset())) == {}

    async def test_a_wider_episode_window_counts_the_old_screen(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        rows = await counts(ledgers, report(episode_window=timedelta(days=90)))
        assert rows[(CLINIC_A,)].stratified == 4


class TestCardMeasures:
    async def test_acceptance_and_fidelity_per_clinician(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        async with ledgers.engine.connect() as connection:
            rows = await SqlReports(connection).card_counts(report(by=(Dimension.CLINICIAN,)))
        summary = {
            row.group["clinician"]: (
                row.cards,
                row.with_feedback,
                row.accepted,
                row.risk_decisions,
                row.risk_decisions_matched,
            )
            for row in rows
        }
        assert summary == {
            "Practitioner/doc-1": (4, 3, 2, 3, 2),
            "Practitioner/doc-2": (3, 0, 0, 0, 0),
            "Practitioner/doc-3": (1, 0, 0, 0, 0),
        }
        fidelity = {row.group["clinician"]: row.fidelity for row in rows}
        assert fidelity == {
            "Practitioner/doc-1": 2 / 3,
            "Practitioner/doc-2": None,
            "Practitioner/doc-3": None,
        }

    async def test_override_reasons(self, ledgers: SqlLedgers) -> None:
        await seed_clinics(ledgers.engine)
        async with ledgers.engine.connect() as connection:
            rows = await SqlReports(connection).override_reasons(report())
        assert [(row.group, row.system, row.code, row.count) for row in rows] == [
            ({"clinic": CLINIC_A}, REASON_SYSTEM, "patient-declined", 1)
        ]
