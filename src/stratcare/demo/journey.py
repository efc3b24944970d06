"""The pre-visit journey: appointment booked, portal Task, the patient answers on the capture page, the
response reaches the EHR through the outbox, the encounter starts with it on record, risk card.

It plays against a service connected to an EHR FHIR server (``ehr_fhir``), as a clinic's is: results and
screens are written back through the outbox, and the EHR prefetches from its record with the templates the
service publishes in discovery. The patient answers through the page's own HTML form post, opened with a
signed single-use link as the portal would send it; no browser is needed.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from rich.console import Console
from rich.text import Text

from stratcare.cdshooks.prefetch import render_template
from stratcare.demo.ehr_fhir import DemoEhr, serving
from stratcare.demo.ehr_identity import DemoEhrIdentity
from stratcare.demo.journey_record import (
    ANSWERS,
    ENCOUNTER,
    GP,
    PATIENT,
    RECEPTION,
    START_BACK_CODES,
    FormReader,
    appointment,
    encounter,
    page_text,
    seed,
)
from stratcare.demo.render import describe_result, indented, render_response, show
from stratcare.json_types import JsonObject

JOURNEY = "pre-visit-journey"
DESCRIPTION = "appointment booked, portal Task, answers on the capture page, outbox, encounter starts"
SERVICE_URL = "http://stratcare.local"
SDC = "http://hl7.org/fhir/uv/sdc/CodeSystem/temp"
DELIVERY_SECONDS = 20.0


@dataclass
class JourneyOutcome:
    ehr: DemoEhr
    steps: dict[str, bool] = field(default_factory=dict)
    cards: dict[str, list[JsonObject]] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(not ok for ok in self.steps.values())


def _heading(out: Console, text: str) -> None:
    show(out)
    show(out, Text(text, style="bold"))


@asynccontextmanager
async def _journey_service(
    database_url: str, ehr: DemoEhr
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service as a clinic runs it: writing back to the EHR's FHIR server through the outbox."""
    from stratcare.api.app import create_app
    from stratcare.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        identity = DemoEhrIdentity(Path(folder))
        settings = Settings(
            database_url=database_url,
            auth="on",
            jwt_issuers=identity.issuer_settings(),
            writeback={"mode": "outbox", "ehr_base_url": ehr.base_url, "idle_poll_seconds": 0.05},
            capture_secret=secrets.token_urlsafe(32),
            public_base_url=SERVICE_URL,
            smart_client_id="stratcare-demo",
            environment="development",
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=SERVICE_URL, auth=identity) as client,
        ):
            yield app, client


class _Journey:
    def __init__(
        self, out: Console, app: FastAPI, client: httpx.AsyncClient, outcome: JourneyOutcome
    ) -> None:
        self.out, self.app, self.client, self.outcome = out, app, client, outcome
        self.ehr = outcome.ehr
        self.templates: dict[str, dict[str, str]] = {}

    def say(self, text: str, spaces: int = 2) -> None:
        show(self.out, indented(Text(text), spaces))

    def step(self, name: str, ok: bool, what: str) -> None:
        self.outcome.steps[name] = ok
        mark, style = ("ok", "green") if ok else ("NOT AS EXPECTED", "bold red")
        show(self.out, indented(Text.assemble((f"[{mark}] ", style), what)))

    async def discover(self) -> None:
        services = (await self.client.get("/cds-services")).json()["services"]
        self.templates = {service["id"]: service.get("prefetch", {}) for service in services}

    async def call(self, service: str, hook: str, context: JsonObject) -> list[JsonObject]:
        """The EHR runs the service's prefetch templates on its record, then calls the hook."""
        prefetch = {}
        for key, template in self.templates[service].items():
            query = render_template(template, context)
            if query is not None:
                prefetch[key] = self.ehr.query(query)
        request = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}
        response = await self.client.post(f"/cds-services/{service}", json=request)
        body: JsonObject = response.json()
        show(self.out, render_response(response.status_code, body))
        cards: list[JsonObject] = body.get("cards", []) if response.status_code == 200 else []
        self.outcome.cards[service] = cards
        return cards

    async def book(self, now: datetime) -> JsonObject | None:
        _heading(self.out, "1. The front desk books an appointment for low back pain (appointment-book)")
        booked = appointment(now)
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": booked}]}
        context = {"userId": f"PractitionerRole/{RECEPTION}", "patientId": PATIENT, "appointments": bundle}
        task = _suggested(await self.call("start-back-appointment-book", "appointment-book", context), "Task")
        self.step("booked", task is not None, "a card suggests a portal Task for the patient")
        self.ehr.put(booked | {"status": "booked"})
        return task

    async def send_task(self, task: JsonObject) -> JsonObject:
        _heading(self.out, "2. The EHR accepts the suggestion: the Task goes to the patient's portal")
        stored = self.ehr.put(task)
        due = stored.get("restriction", {}).get("period", {}).get("end", "")
        self.say(
            f"Task/{stored['id']} ({stored['status']}) for Patient/{PATIENT}, owner "
            f"{stored['owner']['reference']}, due {due}: complete {stored['input'][0]['valueCanonical']}"
        )
        code = stored["code"]["coding"][0]["code"]
        ok = stored["owner"] == {"reference": f"Patient/{PATIENT}"} and code == "complete-questionnaire"
        await self.accepted("start-back-appointment-book")
        self.step("portal-task", ok, "the Task is the patient's, asking for the Questionnaire")
        return stored

    async def accepted(self, service: str) -> None:
        """CDS Hooks feedback: the card's suggestion was accepted."""
        card = self.outcome.cards[service][0]
        item = {
            "card": card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
            "outcomeTimestamp": datetime.now(UTC).isoformat(),
        }
        answered = await self.client.post(f"/cds-services/{service}/feedback", json={"feedback": [item]})
        self.say(f"feedback: suggestion accepted (stratcare answers HTTP {answered.status_code})")

    async def answer(self, task: JsonObject) -> bool:
        from stratcare.capture import CaptureContext

        _heading(self.out, "3. At home, the patient opens the portal's link and answers on the capture page")
        questionnaire = task["input"][0]["valueCanonical"]
        context = CaptureContext(
            PATIENT, None, questionnaire, self.ehr.base_url, "pre-visit", "pre-visit", "link"
        )
        token = self.app.state.runtime.capture.service.issue_link(context, timedelta(minutes=15))
        self.say(f"signed single-use link: {SERVICE_URL}/capture/link/{token[:16]}…")
        page = await self.client.get(f"/capture/link/{token}")
        form = FormReader()
        form.feed(page.text)
        chosen = {f"answer-{link_id}": f"{START_BACK_CODES}|{code}" for link_id, code in ANSWERS.items()}
        offered = all(value in form.options.get(name, []) for name, value in chosen.items())
        self.say(f"the form shows {len(form.options)} questions; the patient answers all and sends them")
        sent = await self.client.post("/capture/submit", data={"ticket": form.ticket, **chosen})
        for line in page_text(sent.text)[:4]:
            self.say(line, 4)
        ok = page.status_code == 200 and offered and sent.status_code == 200
        self.step("answered", ok, "the page accepted the complete form")
        return ok

    async def delivered(self, task: JsonObject) -> JsonObject | None:
        _heading(self.out, "4. The outbox writes the QuestionnaireResponse to the EHR's FHIR server")
        found = await self._waited(lambda: self.ehr.all_of("QuestionnaireResponse"))
        response = found[0] if found else None
        if response is not None:
            self.say(
                f"QuestionnaireResponse/{response['id']} ({response['status']}, "
                f"{response['questionnaire']}) authored {response['authored']} by "
                f"{response['author']['reference']}"
            )
            self.ehr.put(task | {"status": "completed", "output": [_output(response)]})
            self.say(f"the portal marks Task/{task['id']} completed")
        self.step("delivered", response is not None, "the response is on the EHR's record")
        return response

    async def visit(self, now: datetime) -> None:
        _heading(self.out, "5. The patient arrives; the GP starts the encounter (encounter-start)")
        self.ehr.put(encounter(now))
        context = {"userId": f"Practitioner/{GP}", "patientId": PATIENT, "encounterId": ENCOUNTER}
        cards = await self.call("start-back-encounter-start", "encounter-start", context)
        referral = _suggested(cards, "ServiceRequest")
        high = any("high risk" in card["summary"].lower() for card in cards)
        ok = high and referral is not None and referral["status"] == "draft"
        self.step("risk-card", ok, "the risk card carries the pended (draft) referral")
        await self.written_back()

    async def written_back(self) -> None:
        """Wait until the outbox has delivered everything, then show what the service wrote to the record."""
        outbox = self.app.state.runtime.outbox

        async def idle() -> bool:
            status = await outbox.status(datetime.now(UTC))
            return bool(status.pending == 0 and status.in_flight == 0)

        deadline = asyncio.get_running_loop().time() + DELIVERY_SECONDS
        while not await idle() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        show(self.out, indented(Text("written back to the EHR's FHIR server by the outbox:", style="bold")))
        for kind in ("Observation", "RiskAssessment"):
            for resource in self.ehr.all_of(kind):
                self.say(f"{kind}/{resource['id']}: {describe_result(resource)}", 4)

    async def _waited(self, look: Callable[[], list[JsonObject]]) -> list[JsonObject]:
        deadline = asyncio.get_running_loop().time() + DELIVERY_SECONDS
        while not (found := look()) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return found


def _suggested(cards: list[JsonObject], resource_type: str) -> JsonObject | None:
    for card in cards:
        for suggestion in card.get("suggestions", []):
            for action in suggestion.get("actions", []):
                resource = action.get("resource") or {}
                if resource.get("resourceType") == resource_type:
                    return dict(resource)
    return None


def _output(response: JsonObject) -> JsonObject:
    return {
        "type": {"coding": [{"system": SDC, "code": "questionnaire-response"}]},
        "valueReference": {"reference": f"QuestionnaireResponse/{response['id']}"},
    }


async def play_journey(out: Console, database_url: str, now: datetime | None = None) -> JourneyOutcome:
    """Play the journey; ``outcome.failures`` counts the steps that did not go as they should."""
    played_at = now or datetime.now(UTC)
    show(out)
    show(out, Text.assemble((JOURNEY, "bold underline"), (f"  {DESCRIPTION}", "italic")))
    outcome = JourneyOutcome(ehr=DemoEhr())
    with serving(outcome.ehr) as ehr:
        seed(ehr, played_at)
        async with _journey_service(database_url, ehr) as (app, client):
            journey = _Journey(out, app, client, outcome)
            await journey.discover()
            task = await journey.book(played_at)
            if task is None:
                return outcome
            stored = await journey.send_task(task)
            if not await journey.answer(stored) or await journey.delivered(stored) is None:
                return outcome
            await journey.visit(played_at)
    return outcome
