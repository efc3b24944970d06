"""The capture page served by the app: links are issued through the runtime, as the CLI and demo do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from stratcare.api.app import create_app
from stratcare.capture import CaptureContext
from stratcare.settings import Settings

START_BACK = "http://stratcare.org/fhir/Questionnaire/start-back"
EHR = "http://ehr.test/fhir"
SB = "http://stratcare.org/fhir/CodeSystem/start-back"


def capture_settings(database_url: str, ehr: str = EHR, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        auth="off",
        capture_secret="a-test-secret-of-enough-length-0123456789",
        writeback={"mode": "outbox", "ehr_base_url": ehr, "run_in_process": False},
        **overrides,
    )


def context(patient: str = "p-1", point: str = "front-desk", fhir_server: str = EHR) -> CaptureContext:
    return CaptureContext(
        patient_id=patient,
        encounter_id="e-1",
        questionnaire=f"{START_BACK}|1.0.0",
        fhir_server=fhir_server,
        prompted=point,
        completed=point,
        launch="link",
    )


def issue_link(app: FastAPI, ctx: CaptureContext | None = None) -> str:
    token = app.state.runtime.capture.service.issue_link(ctx or context(), timedelta(minutes=5))
    return f"/capture/link/{token}"


def all_answers(agree: int = 8) -> dict[str, str]:
    answers = {f"answer-sb-{n}": f"{SB}|{'agree' if n <= agree else 'disagree'}" for n in range(1, 9)}
    return answers | {"answer-sb-9": f"{SB}|very-much"}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(capture_settings(f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http
