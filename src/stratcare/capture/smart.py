"""SMART App Launch (EHR launch) for the capture page: discovery, authorization code with PKCE, token.

The EHR opens ``/capture/launch?launch=…&iss=…``; the authorization server is discovered from
``{iss}/.well-known/smart-configuration`` (SMART App Launch 2.x), the user agent is sent there with
``response_type=code``, ``state`` and an S256 ``code_challenge`` (authlib's OAuth 2 client), and the code is
exchanged at the token endpoint over the service's shared httpx client (RFC 6749 §4.1.3, with the PKCE
``code_verifier`` of RFC 7636 §4.5; a public client names itself with ``client_id``). The token response
names the patient, the encounter and, from a CDS Hooks ``smart`` link, the card's ``appContext`` (a JSON
string: ``questionnaire``, ``patient``, ``encounter``, ``workflowPoint``; ``pathways/screen_links``), which
``launch_context`` turns into the screen to open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2 import OAuth2Client

from stratcare.capture.service import CaptureRefused
from stratcare.capture.tickets import CaptureContext

DISCOVERY_PATH = "/.well-known/smart-configuration"
SCOPES = "launch openid fhirUser patient/Patient.rs patient/QuestionnaireResponse.cu"
TOKEN_TIMEOUT = httpx.Timeout(10.0)


class LaunchFailed(Exception):
    """The EHR's launch could not be completed (discovery, authorization or token exchange failed)."""


@dataclass(frozen=True)
class AuthorizationServer:
    authorization_endpoint: str
    token_endpoint: str


@dataclass(frozen=True)
class PendingLaunch:
    """What the callback needs, kept in a signed cookie between the two legs (never in a URL)."""

    iss: str
    state: str
    code_verifier: str
    token_endpoint: str


@dataclass(frozen=True)
class LaunchedContext:
    patient_id: str
    encounter_id: str | None
    app_context: dict[str, Any]
    access_token: str
    expires_in_seconds: float


async def discover(http: httpx.AsyncClient, iss: str) -> AuthorizationServer:
    url = iss.rstrip("/") + DISCOVERY_PATH
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        configuration = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LaunchFailed(f"the EHR's SMART configuration could not be read from {url}") from exc
    if not isinstance(configuration, dict):
        raise LaunchFailed(f"{url} did not answer a SMART configuration object")
    methods = configuration.get("code_challenge_methods_supported") or []
    if "S256" not in methods:
        raise LaunchFailed("the EHR's authorization server does not offer PKCE with S256")
    try:
        return AuthorizationServer(
            str(configuration["authorization_endpoint"]), str(configuration["token_endpoint"])
        )
    except KeyError as exc:
        raise LaunchFailed(f"the SMART configuration at {url} names no {exc.args[0]}") from exc


def authorization_request(
    client_id: str, redirect_uri: str, server: AuthorizationServer, iss: str, launch: str
) -> tuple[str, PendingLaunch]:
    """The URL to send the user agent to, and what the callback must check and send."""
    client = _client(client_id, redirect_uri)
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        server.authorization_endpoint, code_verifier=verifier, launch=launch, aud=iss
    )
    return url, PendingLaunch(iss, str(state), verifier, server.token_endpoint)


async def exchange_code(
    http: httpx.AsyncClient, client_id: str, redirect_uri: str, pending: PendingLaunch, code: str
) -> LaunchedContext:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "code_verifier": pending.code_verifier,
    }
    headers = {"Accept": "application/json"}
    try:
        response = await http.post(pending.token_endpoint, data=form, headers=headers, timeout=TOKEN_TIMEOUT)
        token = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LaunchFailed("the EHR's authorization server did not issue a token") from exc
    if not response.is_success or not isinstance(token, dict) or "error" in token:
        raise LaunchFailed("the EHR's authorization server did not issue a token")
    return _launched(token)


def _client(client_id: str, redirect_uri: str) -> OAuth2Client:
    """authlib's OAuth 2 client, for the authorization URL only (it sends nothing)."""
    return OAuth2Client(
        None,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=SCOPES,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )


def _launched(token: dict[str, Any]) -> LaunchedContext:
    patient = token.get("patient")
    if not isinstance(patient, str) or not patient:
        raise LaunchFailed(
            "the token response names no patient: the app must be launched from a patient's record"
        )
    encounter = token.get("encounter")
    raw_context = token.get("appContext")
    app_context: Any = {}
    if isinstance(raw_context, str) and raw_context:
        try:
            app_context = json.loads(raw_context)
        except json.JSONDecodeError as exc:
            raise LaunchFailed("the launch's appContext is not JSON") from exc
    if not isinstance(app_context, dict):
        raise LaunchFailed("the launch's appContext is not a JSON object")
    return LaunchedContext(
        patient_id=patient,
        encounter_id=str(encounter) if isinstance(encounter, str) and encounter else None,
        app_context=app_context,
        access_token=str(token.get("access_token") or ""),
        expires_in_seconds=float(token.get("expires_in") or 300),
    )


def _text(app_context: dict[str, Any], key: str) -> str | None:
    value = app_context.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise CaptureRefused(f"the launch's appContext.{key} is not a non-empty string")
    return value


def launch_context(iss: str, launched: LaunchedContext) -> CaptureContext:
    """The screen a completed launch opens. The card's appContext says which Questionnaire and where in
    the visit it was prompted; the token says whose record the EHR launched from, and it wins: an
    appContext naming another patient, or another encounter than the token's, is refused, because the
    answers would otherwise be filed against the wrong record."""
    app_context = launched.app_context
    questionnaire = _text(app_context, "questionnaire")
    if questionnaire is None:
        raise CaptureRefused("the launch did not say which questionnaire to show (appContext.questionnaire)")
    patient = _text(app_context, "patient")
    if patient is not None and patient != launched.patient_id:
        raise CaptureRefused("the card was for another patient than the record the EHR launched from")
    encounter = _text(app_context, "encounter")
    if encounter is not None and launched.encounter_id is not None and encounter != launched.encounter_id:
        raise CaptureRefused("the card was for another encounter than the one the EHR launched in")
    prompted = _text(app_context, "workflowPoint") or "clinician"
    return CaptureContext(
        patient_id=launched.patient_id,
        encounter_id=launched.encounter_id or encounter,
        questionnaire=questionnaire,
        fhir_server=iss,
        prompted=prompted,
        completed=_text(app_context, "completedAt") or prompted,
        launch="smart",
    )
