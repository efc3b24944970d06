"""Report tests run on SQLite and on PostgreSQL against the same seeded history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stratcare.store import SqlLedgers


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'reports.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def ledgers(database_url: str) -> AsyncIterator[SqlLedgers]:
    store = await SqlLedgers.open(database_url)
    try:
        yield store
    finally:
        await store.close()
