"""CORS with the default settings: the CDS Hooks sandbox and localhost may call from a browser, others not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import SERVICE
from stratcare.api.app import create_app
from stratcare.settings import Settings

RequestFor = Callable[[str], dict[str, Any]]
CALL = f"/cds-services/{SERVICE}"
ALLOWED = ["https://sandbox.cds-hooks.org", "http://localhost:3000", "http://127.0.0.1:8080"]
REFUSED = ["https://evil.example.com", "https://sandbox.cds-hooks.org.evil.example", "http://localhost.evil"]


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest.fixture
async def secured_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cors.db'}",
        auth="on",
        jwt_issuers={"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/jwks.json"}},
        writeback={"mode": "off"},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stratcare.test") as http:
            yield http


class TestPreflight:
    @pytest.mark.parametrize("origin", ALLOWED)
    @pytest.mark.parametrize("path", [CALL, f"{CALL}/feedback"])
    async def test_allowed_origins_may_post_with_a_token_and_json(
        self, client: httpx.AsyncClient, origin: str, path: str
    ) -> None:
        response = await client.options(path, headers=preflight(origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed_headers = response.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers
        assert "content-type" in allowed_headers

    async def test_discovery_may_be_read_from_the_sandbox(self, client: httpx.AsyncClient) -> None:
        response = await client.options("/cds-services", headers=preflight(ALLOWED[0], "GET"))
        assert response.headers["access-control-allow-origin"] == ALLOWED[0]
        assert "GET" in response.headers["access-control-allow-methods"]

    @pytest.mark.parametrize("origin", REFUSED)
    async def test_other_origins_get_no_allow_origin(self, client: httpx.AsyncClient, origin: str) -> None:
        response = await client.options(CALL, headers=preflight(origin))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers

    async def test_preflight_needs_no_token_when_authentication_is_on(
        self, secured_client: httpx.AsyncClient
    ) -> None:
        response = await secured_client.options(CALL, headers=preflight(ALLOWED[0]))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ALLOWED[0]


class TestActualRequests:
    @pytest.mark.parametrize("origin", ALLOWED)
    async def test_get_and_post_answers_carry_the_origin(
        self, client: httpx.AsyncClient, request_for: RequestFor, origin: str
    ) -> None:
        discovery = await client.get("/cds-services", headers={"Origin": origin})
        assert discovery.status_code == 200
        assert discovery.headers["access-control-allow-origin"] == origin
        call = await client.post(CALL, json=request_for("low-risk"), headers={"Origin": origin})
        assert call.status_code == 200
        assert call.headers["access-control-allow-origin"] == origin

    async def test_error_answers_carry_the_origin(self, client: httpx.AsyncClient) -> None:
        origin = ALLOWED[0]
        invalid = await client.post(CALL, json={"hook": 1}, headers={"Origin": origin})
        assert invalid.status_code == 400
        assert invalid.headers["access-control-allow-origin"] == origin
        too_big = await client.post(
            CALL,
            content=b" " * (5 * 1024 * 1024 + 1),
            headers={"Origin": origin, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert too_big.headers["access-control-allow-origin"] == origin

    @pytest.mark.parametrize("origin", REFUSED)
    async def test_other_origins_get_no_allow_origin(
        self, client: httpx.AsyncClient, request_for: RequestFor, origin: str
    ) -> None:
        response = await client.post(CALL, json=request_for("low-risk"), headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers

    @pytest.mark.parametrize("origin", ALLOWED)
    async def test_a_401_is_readable_by_the_browser(
        self, secured_client: httpx.AsyncClient, request_for: RequestFor, origin: str
    ) -> None:
        headers = {"Origin": origin, "Authorization": "Bearer not-a-jwt"}
        for response in (
            await secured_client.get("/cds-services", headers=headers),
            await secured_client.post(CALL, json=request_for("low-risk"), headers=headers),
        ):
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["access-control-allow-origin"] == origin

    async def test_a_401_to_another_origin_has_no_allow_origin(
        self, secured_client: httpx.AsyncClient
    ) -> None:
        response = await secured_client.get("/cds-services", headers={"Origin": REFUSED[0]})
        assert response.status_code == 401
        assert "access-control-allow-origin" not in response.headers
