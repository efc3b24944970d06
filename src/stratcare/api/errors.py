"""The single place that turns errors into HTTP responses with FHIR OperationOutcome bodies."""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratcare.api.authentication import unauthorized_response
from stratcare.api.responses import FastJSONResponse
from stratcare.auth import Unauthorized
from stratcare.errors import Issue, StratcareError, operation_outcome

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


def outcome_response(status_code: int, issues: list[Issue]) -> JSONResponse:
    return FastJSONResponse(operation_outcome(issues), status_code=status_code, media_type=FHIR_JSON)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc if part != "body"]
    return ".".join(parts) or "body"


def validation_issues(exc: RequestValidationError) -> list[Issue]:
    issues = []
    for error in exc.errors():
        where = _location(tuple(error.get("loc", ())))
        kind = error.get("type", "")
        if kind == "json_invalid":
            message = f"the body is not valid JSON: {error.get('ctx', {}).get('error', error['msg'])}"
            issues.append(Issue(code="structure", diagnostics=message))
            continue
        code = "required" if kind == "missing" else "invalid"
        issues.append(Issue(code=code, diagnostics=f"{where}: {error['msg']}", expression=(where,)))
    return issues


async def hook_instance_of(request: Request) -> str | None:
    """The ``hookInstance`` of the hook call being refused, so its log record names the call.

    Only a body the route already parsed is looked at (Starlette caches it on the request); a value that is
    not a UUID is not echoed.
    """
    if request.method != "POST":
        return None
    try:
        body = await request.json()
    except (ValueError, RuntimeError):
        return None
    value = body.get("hookInstance") if isinstance(body, dict) else None
    try:
        return str(UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Unauthorized)
    async def on_unauthorized(_: Request, __: Unauthorized) -> Response:
        return unauthorized_response()

    @app.exception_handler(StratcareError)
    async def on_stratcare_error(request: Request, exc: StratcareError) -> JSONResponse:
        context = {"status": exc.status_code, "reason": exc.message}
        hook_instance = await hook_instance_of(request)
        if hook_instance is not None:
            context["hookInstance"] = hook_instance
        logger.info("request refused", extra=context)
        return outcome_response(exc.status_code, exc.issues)

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return outcome_response(400, validation_issues(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "not-supported", 413: "too-costly"}.get(exc.status_code, "processing")
        response = outcome_response(exc.status_code, [Issue(code=code, diagnostics=str(exc.detail))])
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        issue = Issue(code="exception", diagnostics="internal error; the request was not evaluated")
        return outcome_response(500, [issue])
