"""Real browser: headless Debian Chromium (Playwright) fills the capture page against the served app, the
QuestionnaireResponse reaches the real local FHIR server through the outbox, and the next hook call scores it.

Layouts are checked at tablet (768×1024) and phone (375×667, 320×640) sizes: no horizontal scrolling, every
question visible when scrolled to, body text at 16 px or more, targets 44 px or taller, text contrast
at least 4.5:1. Screenshots are kept
in the test's tmp_path for a person to look at.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, select

from capture.conftest import capture_settings, context, issue_link
from stratcare.api.app import create_app
from stratcare.store.schema import assessments
from support.fhir_server import FhirTestServer, running_fhir_server

pytestmark = pytest.mark.integration
playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CONTRAST = """
() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return Array.from(document.querySelectorAll("h1, h2, legend, label, p, li, a, button, span"))
    .filter((e) => e.offsetParent !== null)
    .map((e) => {
      const a = lum(rgb(getComputedStyle(e).color).slice(0, 3)), b = lum(background(e));
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
}
"""
SIZES = {"tablet": (768, 1024), "phone": (375, 667), "narrow": (320, 640)}
WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[FhirTestServer]:
    with running_fhir_server() as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, fhir_server: FhirTestServer) -> Iterator[tuple[FastAPI, str]]:
    settings = capture_settings(f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}", ehr=fhir_server.base_url)
    settings.writeback.run_in_process = True
    settings.writeback.idle_poll_seconds = 0.05
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/bootstrap --dev installs it)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def seed_patient(fhir: FhirTestServer, patient: str, encounter: str) -> None:
    headers = {"Content-Type": "application/fhir+json", **fhir.auth_headers()}
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": patient, "birthDate": "1970-01-01"},
        {
            "resourceType": "Encounter",
            "id": encounter,
            "status": "in-progress",
            "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/{patient}"},
        },
    ]
    for resource in resources:
        url = f"{fhir.base_url}/{resource['resourceType']}/{resource['id']}"
        httpx.put(url, json=resource, headers=headers, timeout=10).raise_for_status()


def responses_of(fhir: FhirTestServer, patient: str) -> list[dict[str, Any]]:
    found = httpx.get(
        f"{fhir.base_url}/QuestionnaireResponse",
        params={"subject": f"Patient/{patient}"},
        headers=fhir.auth_headers(),
        timeout=10,
    )
    found.raise_for_status()
    return [entry["resource"] for entry in found.json().get("entry") or []]


def check_layout(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.screenshot(path=str(shots / f"{name}-first-screen.png"))
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{name}: horizontal scrolling ({widths})"
    for fieldset in page.locator("fieldset.question").all():
        fieldset.scroll_into_view_if_needed()
        assert fieldset.is_visible()
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('legend, label, p, button, a'))"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert min(sizes) >= 16, f"{name}: text below 16 px"
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('label.choice, button'))"
        ".map(e => e.getBoundingClientRect().height)"
    )
    assert min(heights) >= 44, f"{name}: a target shorter than 44 px"
    assert min(page.evaluate(CONTRAST)) >= 4.5, f"{name}: text contrast below 4.5:1"


def test_a_patient_answers_on_a_tablet_and_the_next_hook_scores_it(
    served: tuple[FastAPI, str], browser: Any, fhir_server: FhirTestServer, tmp_path: Path
) -> None:
    app, base = served
    tag = uuid.uuid4().hex[:10]
    patient, encounter = f"pat-{tag}", f"enc-{tag}"
    seed_patient(fhir_server, patient, encounter)
    ctx = context(patient=patient, fhir_server=fhir_server.base_url)
    ctx = type(ctx)(**{**ctx.__dict__, "encounter_id": encounter})
    page = browser.new_page(viewport={"width": 768, "height": 1024})
    page.goto(base + issue_link(app, ctx))
    check_layout(page, tmp_path, "tablet-form")
    page.get_by_role("button", name="Send my answers").click()
    assert page.locator("#unanswered").is_visible()
    assert page.locator("#unanswered li").count() == 9
    for n in range(1, 9):
        page.locator(f"#q-sb-{n}").get_by_label("Agree", exact=True).check()
    page.locator("#q-sb-9").get_by_label("Very much", exact=True).check()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you, your answers have been sent").wait_for()
    assert "High risk" in page.content()
    page.screenshot(path=str(tmp_path / "tablet-result.png"), full_page=True)
    page.close()

    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := responses_of(fhir_server, patient)):
        if time.monotonic() > deadline:
            pytest.fail("the QuestionnaireResponse did not reach the FHIR server")
        time.sleep(0.1)
    (response,) = found
    assert response["questionnaire"] == "http://stratcare.org/fhir/Questionnaire/start-back|1.0.0"
    assert response["encounter"] == {"reference": f"Encounter/{encounter}"}

    hook = {
        "hook": "encounter-start",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": fhir_server.base_url,
        "context": {"userId": "Practitioner/1", "patientId": patient, "encounterId": encounter},
    }
    if fhir_server.bearer_token:
        hook["fhirAuthorization"] = {
            "access_token": fhir_server.bearer_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "stratcare",
        }
    answered = httpx.post(f"{base}/cds-services/start-back-encounter-start", json=hook, timeout=20)
    assert answered.status_code == 200, answered.text

    store = create_engine(f"sqlite:///{tmp_path / 'stratcare.db'}")
    with store.connect() as connection:
        query = select(assessments).where(assessments.c.response_id == response["id"])
        (assessment,) = connection.execute(query).mappings().all()
    store.dispose()
    assert assessment["kind"] == "scored"
    assert assessment["risk_group"] == "high"


@pytest.mark.parametrize("size", ["tablet", "phone", "narrow"])
def test_the_form_fits_every_width(
    served: tuple[FastAPI, str], browser: Any, fhir_server: FhirTestServer, tmp_path: Path, size: str
) -> None:
    app, base = served
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(base + issue_link(app, context(fhir_server=fhir_server.base_url)))
    assert page.locator("fieldset.question").count() == 9
    check_layout(page, tmp_path, f"{size}-form")
    page.get_by_role("button", name="Send my answers").click()
    check_layout(page, tmp_path, f"{size}-unanswered")
    page.close()
