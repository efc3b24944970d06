"""Signed capture tickets: the single-use link a kiosk or portal opens, and the form's own session ticket.

Both are compact JWTs (HS256, joserfc) signed with ``STRATCARE_CAPTURE_SECRET``; each names its audience
so that one can never be used as the other. A link carries a ``jti`` that the store spends on first use
(across replicas: the replay table), and expires within minutes. The form ticket is what the page posts
back: it binds the answers to the patient, encounter, Questionnaire, FHIR server and workflow points the
launch established, and to one response id, so a resubmitted page cannot make a second screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from pydantic import SecretStr

ISSUER = "stratcare-capture"
LINK_AUDIENCE = "capture-link"
FORM_AUDIENCE = "capture-form"
ALGORITHM = "HS256"


class TicketRefused(Exception):
    """A link or form ticket is forged, expired, of the wrong kind or malformed."""


@dataclass(frozen=True)
class CaptureContext:
    """What a launch established: whose screen, for which visit, on which server, from where in the visit."""

    patient_id: str
    encounter_id: str | None
    questionnaire: str
    """Canonical as given (``url`` or ``url|version``)."""
    fhir_server: str
    prompted: str
    completed: str
    launch: str
    """``link`` or ``smart``."""


@dataclass(frozen=True)
class Ticket:
    context: CaptureContext
    ticket_id: str
    """The link's ``jti``, or the form's response id."""
    expires_at: datetime


class TicketSigner:
    def __init__(self, secret: SecretStr, clock: Callable[[], datetime]) -> None:
        self._key = OctKey.import_key(secret.get_secret_value())
        self._clock = clock

    def sign(self, audience: str, claims: dict[str, Any], lifetime: timedelta) -> str:
        now = self._clock()
        registered = {"iss": ISSUER, "aud": audience, "iat": int(now.timestamp())}
        registered["exp"] = int((now + lifetime).timestamp())
        return jwt.encode({"alg": ALGORITHM}, {**claims, **registered}, self._key)

    def open(self, audience: str, token: str) -> dict[str, Any]:
        """The claims of a token this service signed for ``audience``, unexpired."""
        try:
            claims = dict(jwt.decode(token, self._key, algorithms=[ALGORITHM]).claims)
        except (JoseError, ValueError) as exc:
            raise TicketRefused("the link is not one this service signed") from exc
        if claims.get("iss") != ISSUER or claims.get("aud") != audience:
            raise TicketRefused("the link is not meant for this page")
        expires = claims.get("exp")
        if not isinstance(expires, int) or expires <= self._clock().timestamp():
            raise TicketRefused("the link has expired")
        return claims

    def issue(self, audience: str, context: CaptureContext, ticket_id: str, lifetime: timedelta) -> str:
        claims: dict[str, Any] = {
            "jti": ticket_id,
            "sub": context.patient_id,
            "questionnaire": context.questionnaire,
            "fhirServer": context.fhir_server,
            "prompted": context.prompted,
            "completed": context.completed,
            "launch": context.launch,
        }
        if context.encounter_id is not None:
            claims["encounter"] = context.encounter_id
        return self.sign(audience, claims, lifetime)

    def verify(self, audience: str, token: str) -> Ticket:
        claims = self.open(audience, token)
        expires = datetime.fromtimestamp(claims["exp"], UTC)
        try:
            return Ticket(_context(claims), str(claims["jti"]), expires)
        except (KeyError, TypeError) as exc:
            raise TicketRefused("the link is incomplete") from exc


def _context(claims: dict[str, Any]) -> CaptureContext:
    encounter = claims.get("encounter")
    return CaptureContext(
        patient_id=str(claims["sub"]),
        encounter_id=str(encounter) if encounter is not None else None,
        questionnaire=str(claims["questionnaire"]),
        fhir_server=str(claims["fhirServer"]),
        prompted=str(claims["prompted"]),
        completed=str(claims["completed"]),
        launch=str(claims["launch"]),
    )
