"""The stratcare command: its store-facing subcommands on a SQLite file (no server needed), its help and
its usage errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from store.factories import call_facts, pending_write
from stratcare import __version__
from stratcare.cli import app
from stratcare.demo.journey import JOURNEY
from stratcare.demo.scenarios import load_scenarios
from stratcare.startup import EXIT_STORE, EXIT_USAGE
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
    document: dict[str, object] = json.loads(result.stdout)
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
    assert result.exit_code == EXIT_STORE
    assert result.stderr.startswith(
        "error: STRATCARE_DATABASE_URL: cannot open the store at mysql://nowhere/db"
    )
    assert len(result.stderr.splitlines()) == 1


class TestOutboxStatus:
    def test_names_the_store_it_read(self, database_url: str) -> None:
        text = runner.invoke(app, ["outbox", "status", "--database-url", database_url])
        assert text.stdout.splitlines()[0] == f"store:         {database_url}"
        document = runner.invoke(app, ["outbox", "status", "--json", "--database-url", database_url])
        assert document.stderr == f"store: {database_url}\n"
        assert "store" not in json.loads(document.stdout)

    def test_hides_the_password_of_the_store(self) -> None:
        url = "postgresql+psycopg://someone:hunter2@127.0.0.1:9/stratcare"
        result = runner.invoke(app, ["outbox", "status", "--database-url", url])
        assert "hunter2" not in result.output
        assert "someone:***@127.0.0.1:9" in result.stderr

    @pytest.mark.parametrize(
        "command", [["status"], ["requeue-dead"], ["purge-delivered", "--older-than-days", "1"]]
    )
    def test_never_creates_a_store_that_is_not_there(self, tmp_path: Path, command: list[str]) -> None:
        missing = tmp_path / "typo.db"
        url = f"sqlite+aiosqlite:///{missing}"
        result = runner.invoke(app, ["outbox", *command, "--database-url", url])
        assert result.exit_code == EXIT_STORE
        assert result.stderr == f"error: no store at {url}: the file does not exist\n"
        assert not missing.exists()

    def test_refuses_a_database_without_stratcare_tables(self, tmp_path: Path) -> None:
        empty = tmp_path / "other.db"
        sqlite3.connect(empty).close()
        url = f"sqlite+aiosqlite:///{empty}"
        result = runner.invoke(app, ["outbox", "status", "--database-url", url])
        assert result.exit_code == EXIT_STORE
        assert result.stderr == f"error: no store at {url}: the database has no stratcare tables\n"


class TestCommandLine:
    def test_version(self) -> None:
        result = runner.invoke(app, ["--version"])
        assert (result.exit_code, result.stdout) == (0, f"stratcare {__version__}\n")

    def test_an_unknown_demo_scenario_lists_the_names(self) -> None:
        result = runner.invoke(app, ["demo", "--scenario", "high-risk", "--scenario", "very-high-risk"])
        assert result.exit_code == EXIT_USAGE
        names = ", ".join([*(scenario.name for scenario in load_scenarios()), JOURNEY])
        assert result.stderr == f"error: no demo scenario very-high-risk; the scenarios are: {names}\n"

    @pytest.mark.parametrize(
        "command",
        [[], ["serve"], ["demo"], ["openapi"], ["worker"], ["outbox"]]
        + [["outbox", name] for name in ("status", "requeue-dead", "purge-delivered")],
    )
    def test_help_fits_80_columns_uncut(self, command: list[str]) -> None:
        result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        cut = [line for line in lines if line.rstrip().endswith(("...", "…")) and "[ARGS]..." not in line]
        assert cut == []
        assert "<bool>" not in result.stdout

    def test_flags_show_as_flags(self) -> None:
        help_text = runner.invoke(app, ["worker", "--help"], terminal_width=80).stdout
        assert "  --once  " in help_text
        assert "--no-once" not in help_text


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
        assert result.exit_code == EXIT_STORE
        assert "run `stratcare db upgrade`" in result.output
        assert "Traceback" not in result.output

    def test_an_unreachable_database_is_one_clear_line(self) -> None:
        url = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
        result = runner.invoke(app, ["db", "upgrade", "--database-url", url])
        assert result.exit_code == 1
        assert result.output.startswith("error: ")
        assert "Traceback" not in result.output
