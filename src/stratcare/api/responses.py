"""JSON responses encoded fast: orjson for plain JSON values, pydantic's own encoder for models."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel


class FastJSONResponse(JSONResponse):
    """``JSONResponse`` encoded with orjson (compact, UTF-8, same JSON)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """A CDS Hooks object as JSON straight from pydantic's encoder: camelCase names, no nulls."""
    body = model.model_dump_json(exclude_none=True, by_alias=True)
    return Response(body, status_code=status_code, media_type="application/json")
