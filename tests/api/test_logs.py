"""The JSON logs of a busy session hold no tokens and no patient data, and hook-call records name the call.

Every demo scenario, a call that fetches its prefetch from a (mocked) FHIR server with a lent access token,
feedback with a free-text comment and a refused client token go through the service with the production
log configuration; then every line written is scanned for the distinctive values planted in the input.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from joserfc.jwk import ECKey

from auth.tokens import jwks, sign
from stratcare.api.app import create_app
from stratcare.demo.scenarios import Scenario, load_scenarios
from stratcare.logs import QUIET_LIBRARIES as QUIET
from stratcare.logs import DropQueryStrings, configure_logging
from stratcare.settings import Settings
from stratcare.writeback.settings import WritebackSettings
from support.cds_requests import lent_token

BASE = "http://stratcare.test"
FHIR = "https://fhir.ehr.example.org/r4"
ISSUER = "https://ehr.example.org"
JWKS_URL = f"{ISSUER}/jwks.json"

FAMILY = "Quarmbyfield"
GIVEN = "Ottoline"
BIRTH_DATE = "1931-07-19"
CONDITION_NOTE = "Fell from the hayloft at Quarmby Farm"
ITEM_TEXT = "Xylophonic backache question"
USER_COMMENT = "Zanzibar physio already booked"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsZW50LXRva2VuIn0.bGVudC1zaWduYXR1cmUtNzcx"
PATIENT_DATA = (FAMILY, GIVEN, BIRTH_DATE, CONDITION_NOTE, ITEM_TEXT, USER_COMMENT)


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The service's own JSON log configuration, writing to a buffer instead of stderr."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    touched = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access", *QUIET)]
    saved = [(logger.handlers[:], logger.propagate, logger.level) for logger in touched]
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging("INFO")
    monkeypatch.undo()
    yield buffer
    root.handlers, _ = saved_root
    root.setLevel(saved_root[1])
    for logger, (handlers, propagate, level) in zip(touched, saved, strict=True):
        logger.handlers = handlers
        logger.propagate = propagate
        logger.setLevel(level)


def plant_patient_data(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` whose Patients, Conditions and QuestionnaireResponses carry the markers."""
    planted = copy.deepcopy(request)
    for value in (planted.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        entries = value.get("entry", []) if value.get("resourceType") == "Bundle" else [{"resource": value}]
        for entry in entries:
            plant_in_resource(entry["resource"])
    return planted


def plant_in_resource(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    if kind == "Patient":
        resource["name"] = [{"family": FAMILY, "given": [GIVEN]}]
        resource["birthDate"] = BIRTH_DATE
    elif kind == "Condition":
        resource["note"] = [{"text": CONDITION_NOTE}]
    elif kind == "QuestionnaireResponse":
        for item in resource.get("item", []):
            item["text"] = ITEM_TEXT


def fhir_server_answers(prefetch: dict[str, Any]) -> Any:
    """A FHIR server that answers each prefetch query with what the demo scenario prefetched."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/r4/")
        query = request.url.query.decode()
        if path.startswith("QuestionnaireResponse"):
            key = (
                "nihResponses"
                if "nih-clbp" in query
                else "mentalHealthResponses"
                if "phq-9" in query
                else "startBackResponses"
            )
        else:
            key = {
                "Patient": "patient",
                "Encounter": "encounter",
                "Condition": "conditions",
                "ServiceRequest": "serviceRequests",
                "Task": "tasks",
                "PractitionerRole": "userRoles",
            }[path.split("/")[0].split("?")[0]]
        empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        return httpx.Response(200, json=prefetch.get(key) or empty)

    return answer


@pytest.fixture
def scenarios() -> list[Scenario]:
    return load_scenarios()


async def open_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield http


@pytest.fixture
async def open_service(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'open.db'}",
        auth="off",
        writeback=WritebackSettings(allowlist=(FHIR,)),
    )
    async for http in open_client(settings):
        yield http


@pytest.fixture
async def secured_service(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'secured.db'}",
        auth="on",
        jwt_issuers={ISSUER: {"jwks_url": JWKS_URL}},
    )
    async for http in open_client(settings):
        yield http


class LogWindow:
    """The records written between two points of the buffer, parsed."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer
        self._start = len(buffer.getvalue())

    def records(self) -> list[dict[str, Any]]:
        lines = self._buffer.getvalue()[self._start :].splitlines()
        return [json.loads(line) for line in lines if line.strip()]


async def until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


class Session:
    """Hook calls, feedback and a refused client against the service, remembering each call's log window."""

    def __init__(self, log: io.StringIO, open_service: httpx.AsyncClient, mock: respx.MockRouter) -> None:
        self.log = log
        self.http = open_service
        self.mock = mock
        self.hook_calls: list[tuple[str, list[dict[str, Any]]]] = []
        self.cards: dict[str, dict[str, Any]] = {}

    async def hook_call(self, body: dict[str, Any], service: str) -> httpx.Response:
        window = LogWindow(self.log)
        response = await self.http.post(f"/cds-services/{service}", json=body)
        self.hook_calls.append((body["hookInstance"], window.records()))
        return response

    async def demo_scenarios(self, scenarios: list[Scenario]) -> None:
        for scenario in scenarios:
            response = await self.hook_call(plant_patient_data(scenario.request), scenario.service)
            assert response.status_code in (200, 412), scenario.name
            if response.status_code == 200 and response.json()["cards"]:
                self.cards[scenario.name] = response.json()["cards"][0]
        assert {"low-risk", "medium-risk", "high-risk"} <= set(self.cards)

    async def call_with_ignored_resources(self, scenario: Scenario) -> None:
        """Resources of another patient and malformed ones, carrying the markers, are ignored with a log."""
        body = plant_patient_data(scenario.request)
        body["hookInstance"] = str(uuid.uuid4())
        stranger = {"reference": "Patient/someone-else"}
        patient = {"resourceType": "Patient", "id": "someone-else", "name": [{"family": FAMILY}]}
        malformed = {**patient, "id": body["context"]["patientId"], "birthDate": [BIRTH_DATE]}
        note = [{"text": CONDITION_NOTE}]
        conditions = [
            {"resourceType": "Condition", "subject": stranger, "note": note},
            {"resourceType": "Condition", "subject": stranger, "code": {"text": CONDITION_NOTE}},
        ]
        body["prefetch"]["patient"] = malformed
        body["prefetch"]["conditions"]["entry"] += [{"resource": resource} for resource in conditions]
        body["prefetch"]["extra"] = patient
        response = await self.hook_call(body, scenario.service)
        assert response.status_code == 200
        _, records = self.hook_calls[-1]
        ignored = [record for record in records if record["message"] == "prefetch resource ignored"]
        assert sum(record["count"] for record in ignored) == 3
        assert len(ignored) < 3  # resources ignored for the same reason share one log line

    async def fetching_call(self, scenario: Scenario) -> None:
        """The scenario without prefetch: read from the FHIR server and written back with the lent token."""
        body = plant_patient_data(scenario.request)
        answers = fhir_server_answers(body.pop("prefetch"))
        reads = self.mock.get(url__startswith=FHIR).mock(side_effect=answers)
        writes = self.mock.post(FHIR).respond(
            200, json={"resourceType": "Bundle", "type": "transaction-response", "entry": []}
        )
        body.update(hookInstance=str(uuid.uuid4()), fhirServer=FHIR, fhirAuthorization=LENT)
        response = await self.hook_call(body, scenario.service)
        assert response.status_code == 200
        assert "high risk" in response.json()["cards"][0]["summary"]
        assert reads.calls.last.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
        await until(lambda: writes.called)
        assert writes.called, "the write-back with the lent token was not attempted"

    async def feedback(self, service: str) -> None:
        high, medium = self.cards["high-risk"], self.cards["medium-risk"]
        items = [
            {
                "card": high["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": high["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-11-25T10:00:00Z",
            },
            {
                "card": medium["uuid"],
                "outcome": "overridden",
                "overrideReason": {"userComment": USER_COMMENT},
                "outcomeTimestamp": "2026-11-25T10:01:00Z",
            },
        ]
        response = await self.http.post(f"/cds-services/{service}/feedback", json={"feedback": items})
        assert response.status_code == 200

    async def refused_client(self, secured: httpx.AsyncClient, scenario: Scenario) -> str:
        """A well-formed client JWT signed by a key the issuer does not publish; returns the token."""
        trusted, stranger = (ECKey.generate_key("P-384", parameters={"kid": "ehr"}) for _ in range(2))
        self.mock.get(JWKS_URL).respond(200, json=jwks(trusted))
        now = int(time.time())
        audience = f"{BASE}/cds-services/{scenario.service}"
        forged = sign(stranger, "ES384", {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 60})
        response = await secured.post(
            f"/cds-services/{scenario.service}",
            json=plant_patient_data(scenario.request),
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert response.status_code == 401
        return forged


LENT = lent_token(ACCESS_TOKEN, scope="patient/*.read patient/Observation.write")


@respx.mock(assert_all_mocked=True)
async def test_logs_hold_no_tokens_or_patient_data_and_name_the_hook_call(
    respx_mock: respx.MockRouter,
    json_log: io.StringIO,
    open_service: httpx.AsyncClient,
    secured_service: httpx.AsyncClient,
    scenarios: list[Scenario],
) -> None:
    session = Session(json_log, open_service, respx_mock)
    high_risk = next(scenario for scenario in scenarios if scenario.name == "high-risk")
    await session.demo_scenarios(scenarios)
    await session.call_with_ignored_resources(high_risk)
    await session.fetching_call(high_risk)
    await session.feedback(high_risk.service)
    forged = await session.refused_client(secured_service, high_risk)

    lines = [line for line in json_log.getvalue().splitlines() if line.strip()]
    messages = {json.loads(line)["message"] for line in lines}
    assert {"hook answered", "CDS client refused", "request refused"} <= messages
    secrets = (ACCESS_TOKEN, *ACCESS_TOKEN.split("."), forged, *forged.split("."), "eyJ", "Bearer ")
    for line in lines:
        for secret in secrets:
            assert secret not in line, f"a token leaks into the log: {line}"
        for planted in PATIENT_DATA:
            assert planted not in line, f"patient data leaks into the log: {line}"

    assert len(session.hook_calls) == len(scenarios) + 2
    for hook_instance, records in session.hook_calls:
        assert records, hook_instance
        for record in records:
            assert record.get("hookInstance") == hook_instance, record


class TestAccessLines:
    def _record(self, args: Any, name: str = "uvicorn.access") -> logging.LogRecord:
        return logging.LogRecord(name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)

    def test_the_query_string_is_cut_from_uvicorn_access_lines(self) -> None:
        path = "/cds-services?access_token=eyJx.eyJy.sig"
        record = self._record(("10.0.0.9:5123", "GET", path, "1.1", 401))
        assert DropQueryStrings().filter(record)
        assert record.getMessage() == '10.0.0.9:5123 - "GET /cds-services HTTP/1.1" 401'

    def test_an_access_line_of_unknown_shape_is_dropped(self) -> None:
        assert not DropQueryStrings().filter(self._record(("GET /cds-services?token=eyJx.eyJy.sig",)))

    def test_other_loggers_are_untouched(self) -> None:
        record = self._record(("a", "b", "/path?q=1", "1.1", 200), name="stratcare.api")
        assert DropQueryStrings().filter(record)
        assert "?q=1" in record.getMessage()
