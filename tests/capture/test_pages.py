"""The capture page over ASGI: a signed single-use link, the server's completeness check, one screen once."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from capture.conftest import START_BACK, all_answers, context, issue_link
from stratcare.capture import CaptureRefused
from stratcare.store.schema import capture_screens, outbox


def ticket_of(html: str) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


async def opened(client: httpx.AsyncClient, app: FastAPI) -> str:
    response = await client.get(issue_link(app))
    assert response.status_code == 200, response.text
    return ticket_of(response.text)


class TestLink:
    async def test_the_form_has_real_fieldsets_legends_and_labels(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(issue_link(app))
        html = response.text
        assert response.headers["cache-control"] == "no-store"
        assert html.count("<fieldset") == 9
        assert html.count("<legend>") == 9
        assert html.count('type="radio"') == 8 * 2 + 5
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        assert "&lt;" not in html or "<script" not in html.split("<legend>")[1]

    async def test_a_link_opens_once(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        link = issue_link(app)
        assert (await client.get(link)).status_code == 200
        again = await client.get(link)
        assert again.status_code == 410
        assert "already been used" in again.text

    async def test_a_forged_link_is_refused(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        link = issue_link(app)
        response = await client.get(link[:-4] + "AAAA")
        assert response.status_code == 403
        assert "not one this service signed" in response.text

    async def test_a_link_to_a_server_not_configured_for_write_back_is_refused(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        response = await client.get(issue_link(app, context(fhir_server="http://elsewhere.test/fhir")))
        assert response.status_code == 410
        assert "not configured to write" in response.text

    async def test_an_unavailable_instrument_is_not_offered(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        assert client is not None  # the app is running
        ctx = context()
        msk = type(ctx)(
            **{**ctx.__dict__, "questionnaire": "http://stratcare.org/fhir/Questionnaire/start-msk"}
        )
        with pytest.raises(CaptureRefused, match="licensed wording"):
            issue_link(app, msk)


class TestSubmit:
    async def test_an_incomplete_form_is_refused_naming_the_questions(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        ticket = await opened(client, app)
        answers = all_answers()
        del answers["answer-sb-3"], answers["answer-sb-9"]
        response = await client.post("/capture/submit", data={"ticket": ticket, **answers})
        assert response.status_code == 422
        assert "2 questions still to answer" in response.text
        assert 'href="#q-sb-3"' in response.text
        assert 'href="#q-sb-9"' in response.text
        assert response.text.count('aria-invalid="true"') == 2
        assert response.text.count("checked") >= 7  # the given answers are kept
        async with app.state.runtime.database.connect() as connection:
            assert (await connection.execute(select(outbox))).all() == []

    async def test_a_complete_form_is_queued_once_with_its_workflow_point(
        self, client: httpx.AsyncClient, app: FastAPI
    ) -> None:
        ticket = await opened(client, app)
        response = await client.post("/capture/submit", data={"ticket": ticket, **all_answers()})
        assert response.status_code == 200, response.text
        assert "STarT Back 9/9, psychosocial subscale 5/5: High risk" in response.text
        again = await client.post("/capture/submit", data={"ticket": ticket, **all_answers()})
        assert "already been received" in again.text
        async with app.state.runtime.database.connect() as connection:
            (write,) = (await connection.execute(select(outbox))).mappings().all()
            (screen,) = (await connection.execute(select(capture_screens))).mappings().all()
        (entry,) = write["bundle"]["entry"]
        posted = entry["resource"]
        assert entry["request"]["method"] == "POST"
        assert entry["request"]["ifNoneExist"].endswith(screen["response_id"])
        assert posted["questionnaire"] == f"{START_BACK}|1.0.0"
        assert posted["subject"] == {"reference": "Patient/p-1"}
        assert posted["encounter"] == {"reference": "Encounter/e-1"}
        assert write["fhir_server"] == "http://ehr.test/fhir"
        assert screen["prompted_at_point"] == screen["completed_at_point"] == "front-desk"
        assert screen["risk_band"] == "high-risk"
        assert screen["launch"] == "link"

    async def test_a_tampered_ticket_is_refused(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        ticket = await opened(client, app)
        response = await client.post("/capture/submit", data={"ticket": ticket + "x", **all_answers()})
        assert response.status_code == 403


class TestCli:
    def test_capture_link_prints_a_signed_link(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from typer.testing import CliRunner

        from stratcare.cli import app as cli

        monkeypatch.setenv("STRATCARE_CAPTURE_SECRET", "a-test-secret-of-enough-length-0123456789")
        monkeypatch.setenv("STRATCARE_WRITEBACK_EHR_BASE_URL", "http://ehr.test/fhir")
        args = ["capture-link", "--patient", "p-1", "--questionnaire", START_BACK, "--point", "front-desk"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("http://127.0.0.1:8080/capture/link/")

    def test_an_unknown_point_is_one_sentence(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from typer.testing import CliRunner

        from stratcare.cli import app as cli

        monkeypatch.setenv("STRATCARE_CAPTURE_SECRET", "a-test-secret-of-enough-length-0123456789")
        monkeypatch.setenv("STRATCARE_WRITEBACK_EHR_BASE_URL", "http://ehr.test/fhir")
        args = ["capture-link", "--patient", "p-1", "--questionnaire", START_BACK, "--point", "lobby"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2
        assert "unknown workflow point 'lobby'" in result.output
