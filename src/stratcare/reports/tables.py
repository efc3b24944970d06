"""A report as rows: one per group, patient and card measures side by side (for JSON, CSV and HTML)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stratcare.reports.measures import MEASURES, CardCounts, OverrideReasonCount, PatientCounts
from stratcare.reports.missed import MissedPatientEntry
from stratcare.reports.query import ReportQuery

RISK_GROUPS = ("low", "medium", "high")
MEASURE_COLUMNS = (
    "identified",
    "stratified",
    "stratification_rate",
    "risk_low",
    "risk_medium",
    "risk_high",
    "acute_high_risk",
    "high_risk",
    "referrals_pended",
    "referrals_signed",
    "high_risk_referred",
    "high_risk_referral_rate",
    "cards",
    "cards_with_feedback",
    "cards_accepted",
    "acceptance_rate",
    "risk_decisions",
    "risk_decisions_matched",
    "fidelity",
)
MISSED_COLUMNS = (
    "clinic",
    "patient",
    "identifiable",
    "reason",
    "risk_group",
    "clinician",
    "workflow_point",
    "identified_at",
    "next_appointment",
)


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    patients: Sequence[PatientCounts]
    cards: Sequence[CardCounts]
    override_reasons: Sequence[OverrideReasonCount]
    overall: PatientCounts | None

    @property
    def dimensions(self) -> list[str]:
        return [dimension.value for dimension in self.query.by]

    def rows(self) -> list[dict[str, Any]]:
        """One row per group: the group's values, then every column of ``MEASURE_COLUMNS``."""
        cards = {tuple(row.group.values()): row for row in self.cards}
        groups = [row.group for row in self.patients] + [row.group for row in self.cards]
        keys = {tuple(group.values()): group for group in groups}
        patients = {tuple(row.group.values()): row for row in self.patients}
        return [
            {**group, **_patient_columns(patients.get(key)), **_card_columns(cards.get(key))}
            for key, group in sorted(keys.items(), key=lambda item: tuple(v or "" for v in item[0]))
        ]


def _patient_columns(row: PatientCounts | None) -> dict[str, Any]:
    if row is None:
        row = PatientCounts(group={}, identified=0, stratified=0)
    return {
        "identified": row.identified,
        "stratified": row.stratified,
        "stratification_rate": row.stratification_rate,
        **{f"risk_{group}": row.risk_groups.get(group, 0) for group in RISK_GROUPS},
        "acute_high_risk": row.acute_high_risk,
        "high_risk": row.high_risk,
        "referrals_pended": row.referrals_pended,
        "referrals_signed": row.referrals_signed,
        "high_risk_referred": row.high_risk_referred,
        "high_risk_referral_rate": row.high_risk_referral_rate,
    }


def _card_columns(row: CardCounts | None) -> dict[str, Any]:
    if row is None:
        row = CardCounts(
            group={}, cards=0, with_feedback=0, accepted=0, risk_decisions=0, risk_decisions_matched=0
        )
    return {
        "cards": row.cards,
        "cards_with_feedback": row.with_feedback,
        "cards_accepted": row.accepted,
        "acceptance_rate": row.acceptance_rate,
        "risk_decisions": row.risk_decisions,
        "risk_decisions_matched": row.risk_decisions_matched,
        "fidelity": row.fidelity,
    }


def report_document(report: Report) -> dict[str, Any]:
    """The JSON body of a measures report, each measure's definition included."""
    query = report.query
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "clinics": sorted(query.clinics) if query.clinics is not None else None,
        "by": report.dimensions,
        "granularity": query.granularity.value,
        "definitions": {measure.key: measure.definition for measure in MEASURES},
        "overall": _patient_columns(report.overall) if report.overall else None,
        "rows": report.rows(),
        "overrideReasons": [
            {**row.group, "system": row.system, "code": row.code, "count": row.count}
            for row in report.override_reasons
        ],
    }


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: "" if row.get(column) is None else row[column] for column in columns})
    return buffer.getvalue()


def report_csv(report: Report) -> str:
    """RFC 4180 CSV: the group columns, then ``MEASURE_COLUMNS``; an empty cell is a rate with no base."""
    return _csv([*report.dimensions, *MEASURE_COLUMNS], report.rows())


def missed_rows(entries: Sequence[MissedPatientEntry]) -> list[dict[str, Any]]:
    return [
        {
            "clinic": entry.clinic,
            "patient": entry.patient,
            "identifiable": entry.identifiable,
            "reason": entry.reason,
            "risk_group": entry.risk_group,
            "clinician": entry.clinician,
            "workflow_point": entry.workflow_point,
            "identified_at": entry.identified_at.isoformat(),
            "next_appointment": entry.next_appointment.isoformat() if entry.next_appointment else None,
        }
        for entry in entries
    ]


def missed_csv(entries: Sequence[MissedPatientEntry]) -> str:
    return _csv(MISSED_COLUMNS, missed_rows(entries))
