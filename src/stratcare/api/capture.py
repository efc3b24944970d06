"""The capture page's routes: open by signed link or SMART App Launch, submit, see what happens next.

HTML for people, so errors are pages with the right status and one plain sentence, never a traceback.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stratcare.api.runtime import Runtime, get_runtime
from stratcare.capture import Accepted, CaptureRefused, OpenScreen, TicketRefused
from stratcare.capture.smart import (
    LaunchFailed,
    PendingLaunch,
    authorization_request,
    discover,
    exchange_code,
    launch_context,
)
from stratcare.capture.workflow import UnknownWorkflowPoint

router = APIRouter(prefix="/capture", include_in_schema=False)
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
LAUNCH_COOKIE = "stratcare_capture_launch"
LAUNCH_AUDIENCE = "capture-launch"
LAUNCH_SECONDS = 600
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _refused(runtime: Runtime, reason: str, status: int) -> HTMLResponse:
    return _page(runtime.capture.pages.refused(reason), status)


def _form(runtime: Runtime, request: Request, screen: OpenScreen) -> HTMLResponse:
    submit = str(request.url_for("capture_submit").path)
    return _page(runtime.capture.pages.form(screen.form, screen.ticket, submit))


@router.get("/link/{token}", name="capture_link")
async def open_link(token: str, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """A signed, single-use link (kiosk, portal, demo): opens the form once."""
    try:
        screen = await runtime.capture.service.open_link(token)
    except TicketRefused as exc:
        return _refused(runtime, f"This link cannot be used: {exc}.", 403)
    except CaptureRefused as exc:
        return _refused(runtime, f"{str(exc)[0].upper()}{str(exc)[1:]}.", 410)
    return _form(runtime, request, screen)


@router.get("/launch", name="capture_launch")
async def launch(request: Request, runtime: RuntimeDep, iss: str = "", launch: str = "") -> Response:
    """SMART App Launch (EHR launch): discovery, then the authorization request with PKCE (S256)."""
    capture = runtime.capture
    if capture.smart_client_id is None:
        return _refused(
            runtime, "SMART launch is not configured on this service (STRATCARE_SMART_CLIENT_ID).", 503
        )
    if not iss or not launch:
        return _refused(runtime, "The EHR launch must give both launch and iss.", 400)
    if capture.target(iss) is None:
        return _refused(runtime, "This service does not write to that EHR's FHIR server.", 403)
    try:
        server = await discover(capture.http, iss)
    except LaunchFailed as exc:
        return _refused(runtime, f"{exc}.", 502)
    url, pending = authorization_request(capture.smart_client_id, _callback(request), server, iss, launch)
    response = RedirectResponse(url, status_code=302, headers=HEADERS)
    claims = {
        "ehr": pending.iss,  # not "iss": that claim names this service, the signer
        "state": pending.state,
        "code_verifier": pending.code_verifier,
        "token_endpoint": pending.token_endpoint,
    }
    cookie = capture.signer.sign(LAUNCH_AUDIENCE, claims, timedelta(seconds=LAUNCH_SECONDS))
    secure = request.url.scheme == "https"
    response.set_cookie(
        LAUNCH_COOKIE,
        cookie,
        max_age=LAUNCH_SECONDS,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/capture",
    )
    return response


@router.get("/callback", name="capture_callback")
async def callback(request: Request, runtime: RuntimeDep, code: str = "", state: str = "") -> HTMLResponse:
    """The authorization server's redirect: checks state, exchanges the code, opens the form."""
    capture = runtime.capture
    try:
        claims = capture.signer.open(LAUNCH_AUDIENCE, request.cookies.get(LAUNCH_COOKIE, ""))
    except TicketRefused:
        return _refused(
            runtime, "The launch took too long or was not started here; start it again from the EHR.", 400
        )
    pending = PendingLaunch(claims["ehr"], claims["state"], claims["code_verifier"], claims["token_endpoint"])
    if not state or state != pending.state or not code:
        return _refused(runtime, "The authorization answer does not match this launch; start it again.", 400)
    try:
        launched = await exchange_code(
            capture.http, str(capture.smart_client_id), _callback(request), pending, code
        )
        screen = capture.service.open(launch_context(pending.iss, launched))
    except LaunchFailed as exc:
        return _refused(runtime, f"{exc}.", 502)
    except (CaptureRefused, UnknownWorkflowPoint) as exc:
        return _refused(runtime, f"{str(exc)[0].upper()}{str(exc)[1:]}.", 400)
    response = _form(runtime, request, screen)
    response.delete_cookie(LAUNCH_COOKIE, path="/capture")
    return response


@router.post("/submit", name="capture_submit")
async def submit(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """Accepts a complete form once; an incomplete one comes back naming the unanswered questions (422)."""
    fields = await request.form()
    ticket = str(fields.get("ticket") or "")
    answers = {
        name.removeprefix("answer-"): str(value)
        for name, value in fields.multi_items()
        if name.startswith("answer-") and isinstance(value, str)
    }
    capture = runtime.capture
    try:
        outcome = await capture.service.submit(ticket, answers)
    except TicketRefused as exc:
        return _refused(runtime, f"This form cannot be sent: {exc}. Ask the staff to open it again.", 403)
    except CaptureRefused as exc:
        return _refused(runtime, f"{str(exc)[0].upper()}{str(exc)[1:]}.", 410)
    if isinstance(outcome, Accepted):
        return _page(capture.pages.result(outcome.form.title, outcome.lines, outcome.first_time))
    screen = outcome.screen
    html = capture.pages.form(
        screen.form,
        screen.ticket,
        str(request.url_for("capture_submit").path),
        outcome.answers,
        outcome.unanswered,
    )
    return _page(html, 422)


def _callback(request: Request) -> str:
    return str(request.url_for("capture_callback"))
