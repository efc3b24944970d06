"""The ceiling: a bare FastAPI endpoint on stratcare's stack (uvicorn, FastAPI, pydantic) that reads the
request body and returns one fixed card. Nothing can answer a hook faster on this stack."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()

CARD = {
    "cards": [
        {
            "uuid": "6a0c6f1e-0000-4000-8000-000000000000",
            "summary": "Fixed card",
            "indicator": "info",
            "source": {"label": "ceiling"},
        }
    ]
}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/cds-services/ceiling")
async def ceiling(request: Request) -> dict[str, Any]:
    await request.json()
    return CARD
