"""``stratcare report``: every format from a seeded store, progress on standard error, clear errors."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stratcare.cli import app
from stratcare.store import SqlLedgers, schema

from .history import write_history
from .seed import CLINIC_A, CLINIC_B, seed_clinics

SUMMARY = (schema.report_patient_days, schema.report_card_days, schema.report_override_days)

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"

    async def seed() -> None:
        ledgers = await SqlLedgers.open(url)
        try:
            await seed_clinics(ledgers.engine)
        finally:
            await ledgers.close()

    asyncio.run(seed())
    return url


def report(store: str, *options: str) -> list[str]:
    return ["report", "--from", "2025-03-03", "--to", "2025-03-16", "--database-url", store, *options]


def test_json(store: str) -> None:
    result = runner.invoke(app, report(store, "--format", "json"))
    assert result.exit_code == 0, result.stderr
    rows = {row["clinic"]: row for row in json.loads(result.stdout)["rows"]}
    assert (rows[CLINIC_A]["identified"], rows[CLINIC_A]["stratified"]) == (5, 3)
    assert "counting by clinic" in result.stderr


def test_csv_for_one_clinic(store: str) -> None:
    result = runner.invoke(app, report(store, "--format", "csv", "--clinic", CLINIC_B))
    assert result.exit_code == 0, result.stderr
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert (row["clinic"], row["identified"], row["high_risk"]) == (CLINIC_B, "1", "1")


@pytest.mark.parametrize(("form", "start"), [("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-")])
def test_page_formats_to_a_file(store: str, tmp_path: Path, form: str, start: bytes) -> None:
    output = tmp_path / f"report.{form}"
    result = runner.invoke(app, report(store, "--format", form, "--output", str(output)))
    assert result.exit_code == 0, result.stderr
    assert output.read_bytes().startswith(start)
    assert "(3/3)" in result.stderr
    assert "rendering" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--format", "docx"], "unknown format 'docx'"),
        (["--to", "2025-03-01"], "the period must end after it starts"),
    ],
)
def test_mistakes_are_one_line_errors(store: str, options: list[str], message: str) -> None:
    result = runner.invoke(app, report(store, *options))
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


class TestRebuildReportSummary:
    def test_the_summary_comes_back_as_it_was_kept(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'rebuild.db'}"

        async def write_and_lose_the_summary() -> dict[str, list[dict[str, object]]]:
            ledgers = await SqlLedgers.open(url)
            try:
                await write_history(ledgers, seed=3)
                kept = await summary_rows(ledgers)
                async with ledgers.engine.begin() as connection:
                    for table in SUMMARY:
                        await connection.execute(table.delete())
                return kept
            finally:
                await ledgers.close()

        kept = asyncio.run(write_and_lose_the_summary())
        result = runner.invoke(app, ["db", "rebuild-report-summary", "--database-url", url])
        assert result.exit_code == 0, result.output
        days = len(kept["report_patient_days"])
        assert days
        assert result.stdout == f"report summary rebuilt: {days} patient days\n"

        async def rebuilt() -> dict[str, list[dict[str, object]]]:
            ledgers = await SqlLedgers.open(url)
            try:
                return await summary_rows(ledgers)
            finally:
                await ledgers.close()

        assert asyncio.run(rebuilt()) == kept

    def test_a_store_not_yet_upgraded_is_one_sentence(self, tmp_path: Path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        result = runner.invoke(app, ["db", "rebuild-report-summary", "--database-url", url])
        assert result.exit_code != 0
        assert len(result.stderr.splitlines()) == 1
        assert "Traceback" not in result.output


async def summary_rows(ledgers: SqlLedgers) -> dict[str, list[dict[str, object]]]:
    async with ledgers.engine.connect() as connection:
        found = {}
        for table in SUMMARY:
            result = await connection.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [dict(row) for row in result.mappings()]
        return found
