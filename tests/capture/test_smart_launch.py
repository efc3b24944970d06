"""SMART App Launch (EHR launch) against a local SMART authorization server: discovery, PKCE, state, token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from capture.conftest import START_BACK, all_answers, capture_settings
from capture.smart_server import SmartServer, running_smart_server
from capture.test_pages import ticket_of
from stratcare.api.app import create_app
from stratcare.store.schema import capture_screens, outbox

CLIENT = "stratcare-capture"


@pytest.fixture
def smart() -> Iterator[SmartServer]:
    server = SmartServer(
        client_id=CLIENT,
        patient="p-smart",
        encounter="e-smart",
        app_context={"questionnaire": f"{START_BACK}|1.0.0", "workflowPoint": "rooming"},
    )
    with running_smart_server(server) as running:
        yield running


@pytest.fixture
async def launched_app(
    tmp_path: Path, smart: SmartServer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = capture_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", ehr=smart.iss, smart_client_id=CLIENT
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as client:
            yield app, client


async def launch(client: httpx.AsyncClient, smart: SmartServer, state: str | None = None) -> httpx.Response:
    start = await client.get("/capture/launch", params={"launch": smart.launch, "iss": smart.iss})
    assert start.status_code == 302, start.text
    authorize = httpx.get(start.headers["location"], timeout=10)
    assert authorize.status_code == 307, authorize.text
    callback = urlsplit(authorize.headers["location"])
    query = {key: value[0] for key, value in parse_qs(callback.query).items()}
    if state is not None:
        query["state"] = state
    return await client.get(callback.path, params=query)


class TestSmartLaunch:
    async def test_an_ehr_launch_opens_the_form_for_the_launched_patient(
        self, launched_app: tuple[FastAPI, httpx.AsyncClient], smart: SmartServer
    ) -> None:
        app, client = launched_app
        opened = await launch(client, smart)
        assert opened.status_code == 200, opened.text
        (request,) = smart.seen_authorize
        assert request["redirect_uri"] == "http://stratcare.test/capture/callback"
        assert request["code_challenge_method"] == "S256"
        submitted = await client.post(
            "/capture/submit", data={"ticket": ticket_of(opened.text), **all_answers(0)}
        )
        assert submitted.status_code == 200, submitted.text
        assert "Low risk" in submitted.text
        async with app.state.runtime.database.connect() as connection:
            (screen,) = (await connection.execute(select(capture_screens))).mappings().all()
            (write,) = (await connection.execute(select(outbox))).mappings().all()
        assert (screen["patient_id"], screen["encounter_id"]) == ("p-smart", "e-smart")
        assert (screen["launch"], screen["prompted_at_point"]) == ("smart", "rooming")
        assert write["fhir_server"] == smart.iss

    async def test_a_callback_with_another_state_is_refused(
        self, launched_app: tuple[FastAPI, httpx.AsyncClient], smart: SmartServer
    ) -> None:
        _, client = launched_app
        opened = await launch(client, smart, state="forged")
        assert opened.status_code == 400
        assert "does not match this launch" in opened.text

    async def test_a_launch_from_an_unconfigured_server_is_refused(
        self, launched_app: tuple[FastAPI, httpx.AsyncClient]
    ) -> None:
        _, client = launched_app
        response = await client.get(
            "/capture/launch", params={"launch": "x", "iss": "http://elsewhere.test/fhir"}
        )
        assert response.status_code == 403
