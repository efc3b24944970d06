"""Plays an EHR against stratcare: discovery, one hook call per sample patient, then card feedback."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.text import Text

from stratcare.demo.ehr_identity import DemoEhrIdentity
from stratcare.demo.journey import JOURNEY, play_journey
from stratcare.demo.letter_files import save_letter_pdf
from stratcare.demo.render import demo_console, indented, json_block, render_response, show
from stratcare.demo.scenarios import Scenario, load_scenarios


@asynccontextmanager
async def _client(url: str | None, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    if url is not None:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            yield client
        return
    from stratcare.api.app import create_app
    from stratcare.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        ehr = DemoEhrIdentity(Path(folder))
        settings = Settings(
            database_url=database_url,
            auth="on",
            jwt_issuers=ehr.issuer_settings(),
            # No EHR FHIR server in the demo: show what would be written back as systemActions.
            writeback={"mode": "system-actions"},
            environment="development",
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://stratcare.local", auth=ehr) as client,
        ):
            yield client


async def play(*, url: str | None, only: list[str], database_url: str, console: Console | None = None) -> int:
    """Return a process exit code: 0 when every scenario got the answer it should."""
    out = console or demo_console()
    async with _client(url, database_url) as client:
        discovery = (await client.get("/cds-services")).json()
        show(out, Text("CDS services offered", style="bold underline"))
        for service in discovery["services"]:
            show(out, indented(Text(f"{service['id']} ({service['hook']}): {service['title']}")))
        failures = 0
        issued: dict[str, dict[str, Any]] = {}
        for scenario in load_scenarios():
            if only and scenario.name not in only:
                continue
            status, body = await _call(client, scenario, out)
            failures += _expected_status(scenario) != status
            if status == 200:
                save_letter_pdf(body)
            if status == 200 and body["cards"]:
                issued[scenario.name] = body["cards"][0]
        await _send_feedback(client, issued, out)
    if not only or JOURNEY in only:
        failures += await _journey(url, database_url, out)
    return 1 if failures else 0


async def _journey(url: str | None, database_url: str, out: Console) -> int:
    """The pre-visit journey needs the EHR's FHIR server beside the service, so it plays in-process only."""
    if url is not None:
        show(out)
        show(
            out,
            Text(f"{JOURNEY}: skipped (it runs the service beside a demo EHR FHIR server)", style="italic"),
        )
        return 0
    return (await play_journey(out, database_url)).failures


def _heading(out: Console, name: str, description: str) -> None:
    show(out)
    show(out, Text.assemble((f"{name}", "bold underline"), (f"  {description}", "italic")))


async def _call(client: httpx.AsyncClient, scenario: Scenario, out: Console) -> tuple[int, dict[str, Any]]:
    _heading(out, scenario.name, scenario.description)
    response = await client.post(f"/cds-services/{scenario.service}", json=scenario.request)
    body: dict[str, Any] = response.json()
    show(out, render_response(response.status_code, body))
    return response.status_code, body


def _expected_status(scenario: Scenario) -> int:
    return 412 if "prefetch" not in scenario.request and "fhirServer" not in scenario.request else 200


async def _send_feedback(client: httpx.AsyncClient, issued: dict[str, dict[str, Any]], out: Console) -> None:
    """The clinician signs the high-risk referral and overrides the medium-risk one."""
    items = []
    now = datetime.now(UTC).isoformat()
    high = issued.get("high-risk")
    if high and high.get("suggestions"):
        suggestion = high["suggestions"][0]["uuid"]
        items.append(
            {
                "card": high["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggestion}],
                "outcomeTimestamp": now,
            }
        )
    medium = issued.get("medium-risk")
    if medium and medium.get("overrideReasons"):
        reason = medium["overrideReasons"][0]
        items.append(
            {
                "card": medium["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason},
                "outcomeTimestamp": now,
            }
        )
    if not items:
        return
    _heading(out, "feedback", "the referral signed for high risk; the medium-risk card overridden")
    show(out, indented(Text("The EHR sends:", style="bold")))
    show(out, json_block({"feedback": items}))
    for attempt in ("first", "repeated"):
        response = await client.post(
            "/cds-services/start-back-encounter-start/feedback", json={"feedback": items}
        )
        show(
            out, indented(Text(f"stratcare answers the {attempt} delivery with HTTP {response.status_code}:"))
        )
        show(out, json_block(response.json()))
