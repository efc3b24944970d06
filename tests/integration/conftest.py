"""Write-back end to end: the app over ASGI with its lifespan, a real store, a real FHIR server over HTTP.

Every ``Settings`` of these tests is built by ``make_settings``: CDS client authentication is off here (it is
tested elsewhere), and retries are fast so that outages of a few seconds are ridden out quickly.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from stratcare.api.app import create_app
from stratcare.demo.scenarios import load_scenarios
from stratcare.settings import Settings
from stratcare.writeback.resources import IDENTIFIER_SYSTEM
from support.cds_requests import lent_token
from support.fhir_server import FhirTestServer, running_fhir_server

SERVICE = "start-back-encounter-start"
WAIT_SECONDS = 20.0
FAST_WRITEBACK: dict[str, Any] = {
    "backoff_base_seconds": 0.05,
    "backoff_max_seconds": 0.2,
    "idle_poll_seconds": 0.05,
    "lease_seconds": 30.0,
}
HookBody = dict[str, Any]


class HasBaseUrl(Protocol):
    """A FHIR server, running or not: only its base URL matters for the allowlist."""

    @property
    def base_url(self) -> str: ...


def make_settings(
    database_url: str,
    *,
    writes_to: Sequence[HasBaseUrl] = (),
    writeback: dict[str, Any] | None = None,
    **overrides: Any,
) -> Settings:
    """The one place these tests build settings: no client authentication, fast write-back retries, and
    results written back to ``writes_to`` (on the write-back allowlist)."""
    fields: dict[str, Any] = {"auth": "off", **overrides}
    allowlist = {"allowlist": [server.base_url for server in writes_to]}
    return Settings(
        database_url=database_url, writeback=FAST_WRITEBACK | allowlist | (writeback or {}), **fields
    )


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[FhirTestServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'stratcare.db'}"


@pytest.fixture
async def fhir_http(fhir_server: FhirTestServer) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the FHIR server, as the EHR's other users see it."""
    headers = {"Accept": "application/fhir+json", **fhir_server.auth_headers()}
    async with httpx.AsyncClient(base_url=fhir_server.base_url, headers=headers, timeout=10.0) as http:
        yield http


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (and so its in-process worker, unless settings say otherwise)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as client:
            yield client


def high_risk_request(fhir_server: FhirTestServer) -> HookBody:
    """The high-risk demo call for a patient, encounter and responses no other test (or run) used, naming
    ``fhir_server``: prefetch is complete, so the server is used only for the write-back."""
    (scenario,) = [scenario for scenario in load_scenarios() if scenario.name == "high-risk"]
    body: dict[str, Any] = copy.deepcopy(scenario.request)
    tag = uuid.uuid4().hex[:12]
    renames = {
        "demo-high-enc": f"enc-{tag}",
        "demo-high-sb": f"sb-{tag}",
        "demo-high-nih": f"nih-{tag}",
        "demo-high": f"pat-{tag}",
    }
    body = _renamed(body, renames)
    body["hookInstance"] = str(uuid.uuid4())
    body["fhirServer"] = fhir_server.base_url
    if fhir_server.bearer_token:
        body["fhirAuthorization"] = lent_token(
            fhir_server.bearer_token, scope="patient/Observation.write patient/RiskAssessment.write"
        )
    return body


def _renamed(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _renamed(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(item, renames) for item in node]
    if isinstance(node, str):
        for old, new in renames.items():  # longest names first: "demo-high" is a prefix of the others
            node = node.replace(old, new)
        return node
    return node


def patient_of(body: HookBody) -> str:
    return str(body["context"]["patientId"])


async def call_hook(client: httpx.AsyncClient, body: HookBody) -> httpx.Response:
    return await client.post(f"/cds-services/{SERVICE}", json=body)


async def outbox_status(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    outbox: dict[str, Any] = response.json()["outbox"]
    return outbox


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_for_delivery(client: httpx.AsyncClient, delivered: int) -> dict[str, Any]:
    """Wait until ``delivered`` writes are delivered and none waits; the final status."""
    latest: dict[str, Any] = {}

    async def done() -> bool:
        latest.update(await outbox_status(client))
        assert latest["dead"] == 0, latest
        return bool(latest["delivered"] == delivered and latest["pending"] == latest["inFlight"] == 0)

    await wait_until(done, f"{delivered} delivered writes")
    return latest


async def search_all(http: httpx.AsyncClient, resource_type: str, **params: str) -> list[dict[str, Any]]:
    """Every match, following ``next`` links."""
    found: list[dict[str, Any]] = []
    response = await http.get(f"/{resource_type}", params={"_count": "100", **params})
    while True:
        response.raise_for_status()
        page = response.json()
        found += [entry["resource"] for entry in page.get("entry") or []]
        following = [link["url"] for link in page.get("link") or [] if link.get("relation") == "next"]
        if not following:
            return found
        response = await http.get(following[0])


async def of_patient(http: httpx.AsyncClient, resource_type: str, patient_id: str) -> list[dict[str, Any]]:
    return await search_all(http, resource_type, subject=f"Patient/{patient_id}")


def identifier_of(resource: dict[str, Any]) -> str:
    """The stratcare identifier value of a written resource (each carries exactly one)."""
    (identifier,) = [item for item in resource["identifier"] if item["system"] == IDENTIFIER_SYSTEM]
    return str(identifier["value"])
