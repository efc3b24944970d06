"""The stratcare command's store-facing subcommands on a SQLite file (no server needed)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from store.factories import call_facts, pending_write
from stratcare.cli import app
from stratcare.store import SqlLedgers

runner = CliRunner()


async def seed(url: str) -> None:
    """Two writes: one delivered ten days ago, one still pending."""
    ledgers = await SqlLedgers.open(url)
    try:
        async with ledgers.hook_ledger() as ledger:
            await ledger.record(call_facts(), [], [], [pending_write("old"), pending_write("waiting")])
        outbox = ledgers.outbox()
        ten_days_ago = datetime.now(UTC) - timedelta(days=10)
        claimed = await outbox.claim("cli-test", 1, ten_days_ago, 60)
        await outbox.mark_delivered(claimed[0].id, "cli-test", ten_days_ago)
    finally:
        await ledgers.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    asyncio.run(seed(url))
    return url


def status(database_url: str) -> dict[str, object]:
    result = runner.invoke(app, ["outbox", "status", "--json", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_status_reports_the_queue(database_url: str) -> None:
    assert (status(database_url)["pending"], status(database_url)["delivered"]) == (1, 1)


def test_purge_delivered_keeps_recent_and_undelivered_writes(database_url: str) -> None:
    kept = runner.invoke(
        app, ["outbox", "purge-delivered", "--older-than-days", "30", "--database-url", database_url]
    )
    assert kept.exit_code == 0, kept.output
    assert "purged 0" in kept.output

    purged = runner.invoke(
        app, ["outbox", "purge-delivered", "--older-than-days", "7", "--database-url", database_url]
    )
    assert "purged 1" in purged.output
    assert (status(database_url)["pending"], status(database_url)["delivered"]) == (1, 0)


def test_an_unsupported_store_url_is_a_one_line_error() -> None:
    result = runner.invoke(app, ["outbox", "status", "--database-url", "mysql://nowhere/db"])
    assert result.exit_code == 1
    assert "error:" in result.output
