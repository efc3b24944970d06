"""The app over ASGI with its real lifespan: bundled content, a fresh SQLite store per test."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratcare.api.app import create_app
from stratcare.demo.scenarios import Scenario, load_scenarios
from stratcare.settings import Settings

SERVICE = "start-back-encounter-start"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}", auth="off")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


@pytest.fixture(scope="session")
def scenarios() -> dict[str, Scenario]:
    return {scenario.name: scenario for scenario in load_scenarios()}


@pytest.fixture
def request_for(scenarios: dict[str, Scenario]) -> Any:
    def make(name: str) -> dict[str, Any]:
        return copy.deepcopy(scenarios[name].request)

    return make
