"""Authentication of report users, apart from the CDS clients' JWTs: an OIDC bearer token from the
configured issuer (signature by its JWKS, ``iss``, ``aud``, ``exp``; the clinic from a claim), or the
configured admin token. With neither configured, every report request is refused."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from stratcare.auth.errors import Unauthorized
from stratcare.auth.keys import JwksCache, KeySource
from stratcare.auth.verifier import KEY_TYPE_BY_ALGORITHM, verify_signature
from stratcare.fhir.appointments import NextAppointments
from stratcare.fhir.client import HttpxFhirClient
from stratcare.reports.access import ReportUser
from stratcare.reports.settings import ReportSettings
from stratcare.reports.support import ALL_CLINICS

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 16 * 1024
LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class ReportAccess:
    """What report endpoints hold for the life of the service."""

    authenticator: ReportAuthenticator
    appointments: NextAppointments
    pseudonym_key: bytes


def report_access(settings: ReportSettings, http: httpx.AsyncClient) -> ReportAccess:
    authenticator = ReportAuthenticator(settings, http)
    if not authenticator.configured:
        logger.warning(
            "reports are closed: set STRATCARE_REPORTS_OIDC_ISSUER or STRATCARE_REPORTS_ADMIN_TOKEN"
        )
    key = settings.pseudonym_key.get_secret_value().encode() if settings.pseudonym_key else None
    if key is None:
        logger.warning("STRATCARE_REPORTS_PSEUDONYM_KEY is unset: pseudonyms change at every start")
    return ReportAccess(
        authenticator, NextAppointments(HttpxFhirClient(http)), key or secrets.token_bytes(32)
    )


class ReportAuthenticator:
    def __init__(self, settings: ReportSettings, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http
        self._keys = JwksCache(http, ttl_seconds=600, min_refetch_seconds=30, timeout_seconds=5)
        self._jwks_url: str | None = str(settings.oidc_jwks_url) if settings.oidc_jwks_url else None

    @property
    def configured(self) -> bool:
        return self._settings.admin_token is not None or self._settings.oidc_issuer is not None

    async def user(self, authorization: str | None) -> ReportUser:
        """The user this ``Authorization`` header proves, or ``Unauthorized``."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("no bearer token")
        admin = self._settings.admin_token
        if admin is not None and hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
            return ReportUser(subject="admin", clinics=None, identifiable=True)
        if self._settings.oidc_issuer is None:
            raise Unauthorized("token not accepted")
        return self._user_from_claims(await self._verified_claims(token))

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("token too long")
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError) as exc:
            raise Unauthorized("token is not a compact JWS") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in KEY_TYPE_BY_ALGORITHM or not isinstance(kid, str):
            raise Unauthorized("alg or kid not accepted")
        key = await self._keys.key(KeySource(url=await self._jwks()), kid, KEY_TYPE_BY_ALGORITHM[algorithm])
        if key is None:
            raise Unauthorized("no key for kid")
        claims = verify_signature(token, key, algorithm)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": str(self._settings.oidc_issuer).rstrip("/")},
            aud={"essential": True, "value": self._settings.oidc_audience or ""},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate({**claims, "iss": str(claims.get("iss", "")).rstrip("/")})
        except JoseError as exc:
            raise Unauthorized(f"claims refused: {exc.error}") from exc
        return claims

    async def _jwks(self) -> str:
        if self._jwks_url is None:
            issuer = str(self._settings.oidc_issuer).rstrip("/")
            try:
                response = await self._http.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
                response.raise_for_status()
                jwks_uri = json.loads(response.content).get("jwks_uri")
            except (httpx.HTTPError, ValueError, AttributeError) as exc:
                raise Unauthorized("issuer discovery failed") from exc
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                raise Unauthorized("issuer discovery names no https jwks_uri")
            self._jwks_url = jwks_uri
        return self._jwks_url

    def _user_from_claims(self, claims: dict[str, Any]) -> ReportUser:
        raw = claims.get(self._settings.clinic_claim)
        values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        clinics = frozenset(value for value in values if isinstance(value, str) and value)
        scopes = claims.get("scope")
        granted = set(scopes.split()) if isinstance(scopes, str) else set()
        return ReportUser(
            subject=str(claims["sub"]),
            clinics=None if ALL_CLINICS in clinics else clinics,
            identifiable=self._settings.identifiable_scope in granted,
        )
