"""The report page rendered in headless Chromium: charts present, labelled, and the screenshot not blank;
the PNG and PDF exports are what they say."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from matplotlib.image import imread
from playwright.async_api import async_playwright

from .app import ADMIN_TOKEN, report_client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PARAMS = {"from": "2025-03-03", "to": "2025-03-16", "granularity": "week"}
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "report-page.png"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with report_client(tmp_path) as http:
        yield http


async def test_page_renders_with_labelled_charts(client: httpx.AsyncClient, tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} missing: run scripts/ensure-chromium")
    response = await client.get("/reports/page", params=PARAMS, headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = tmp_path / "report.html"
    html.write_text(response.text, encoding="utf-8")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 900})
            # The page must need nothing from the network: any request but the file itself is refused.
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            await page.goto(html.as_uri())
            charts = page.locator("figure.chart svg")
            assert await charts.count() == 3
            texts = [
                await page.locator(f"#chart-{key}").inner_text()
                for key in ("clinic", "workflow_point", "period")
            ]
            screenshot = await page.screenshot(full_page=True)
        finally:
            await browser.close()
    assert requested == [html.as_uri()]
    clinic, workflow, trend = texts
    assert "Stratification rate by clinic" in clinic
    assert "Organization/clinic-a" in clinic
    assert "Overall 67%" in clinic
    assert "60% of 5" in clinic
    assert "pre-visit" in workflow
    assert "rooming" in workflow
    assert "2025-03-03" in trend
    assert "2025-03-10" in trend
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.write_bytes(screenshot)
    assert _distinct_colours(screenshot) > 8


def _distinct_colours(png: bytes) -> int:
    pixels = imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])[::97]
    return len({tuple(round(float(channel), 2) for channel in pixel) for pixel in flat})


async def test_page_escapes_clinic_names(tmp_path: Path) -> None:
    async with report_client(tmp_path) as http:
        response = await http.get(
            "/reports/page", params={**PARAMS, "clinic": "<script>x</script>"}, headers=HEADERS
        )
    assert response.status_code == 200
    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.text


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
async def test_exports(client: httpx.AsyncClient, suffix: str, magic: bytes) -> None:
    response = await client.get(f"/reports/page{suffix}", params=PARAMS, headers=HEADERS)
    assert response.status_code == 200
    assert response.content.startswith(magic)


async def test_page_needs_a_report_user(client: httpx.AsyncClient) -> None:
    for suffix in ("", ".png", ".pdf"):
        response = await client.get(f"/reports/page{suffix}", params=PARAMS)
        assert response.status_code == 401
