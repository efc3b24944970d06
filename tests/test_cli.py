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


class TestDb:
    @pytest.fixture
    def release_0_1_url(self, tmp_path: Path) -> str:
        from store.release_0_1_data import create_release_0_1_database
        from stratcare.store import create_engine

        url = f"sqlite+aiosqlite:///{tmp_path / 'release-0.1.db'}"

        async def create() -> None:
            engine = create_engine(url)
            try:
                await create_release_0_1_database(engine)
            finally:
                await engine.dispose()

        asyncio.run(create())
        return url

    def test_current_then_upgrade_a_release_0_1_database(self, release_0_1_url: str) -> None:
        from stratcare.store import head_revision

        before = runner.invoke(app, ["db", "current", "--database-url", release_0_1_url])
        assert before.exit_code == 0, before.output
        assert (
            before.output
            == f"database at revision none; newest {head_revision()} (run `stratcare db upgrade`)\n"
        )

        upgraded = runner.invoke(app, ["db", "upgrade", "--database-url", release_0_1_url])
        assert upgraded.exit_code == 0, upgraded.output
        assert upgraded.output == f"database at revision {head_revision()} (newest)\n"

        after = runner.invoke(app, ["db", "current", "--database-url", release_0_1_url])
        assert (
            after.output == f"database at revision {head_revision()}; newest {head_revision()} (up to date)\n"
        )

    def test_outbox_commands_refuse_a_database_not_upgraded(self, release_0_1_url: str) -> None:
        result = runner.invoke(app, ["outbox", "status", "--database-url", release_0_1_url])
        assert result.exit_code == 1
        assert "run `stratcare db upgrade`" in result.output
        assert "Traceback" not in result.output

    def test_an_unreachable_database_is_one_clear_line(self) -> None:
        url = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
        result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
        assert result.exit_code == 1
        assert result.output.startswith("error: ")
        assert "Traceback" not in result.output
