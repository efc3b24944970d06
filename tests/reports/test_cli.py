"""``stratcare report``: every format from a seeded store, progress on standard error, clear errors."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stratcare.cli import app
from stratcare.store import SqlLedgers

from .seed import CLINIC_A, CLINIC_B, seed_clinics

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
