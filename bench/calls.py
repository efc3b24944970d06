"""The calls the harness sends: hook requests built from the bundled high-risk sample patient, feedback,
and the JWTs a CDS client signs for each (distinct ``jti``, signed before the timed run)."""

from __future__ import annotations

import copy
import functools
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from bench.load import LOOPBACK, HttpRequest
from stratcare.demo.scenarios import load_scenarios

SERVICE = "start-back-encounter-start"
HOOK_PATH = f"/cds-services/{SERVICE}"
FEEDBACK_PATH = f"{HOOK_PATH}/feedback"
ISSUER = "https://bench-ehr.stratcare.local"
SAMPLE_PATIENT = "demo-high"
TOKEN_LIFETIME_SECONDS = 300
"""CDS Hooks caps a client token's lifetime at five minutes; each timed run is signed just before it."""


class CdsClient:
    """A CDS client with its own ES384 key, published as a JWK Set file the service is told to trust."""

    def __init__(self, folder: Path) -> None:
        self._key = ECKey.generate_key("P-384", parameters={"kid": f"bench-{uuid.uuid4().hex[:8]}"})
        self.jwks_file = folder / "bench-jwks.json"
        self.jwks_file.write_text(json.dumps({"keys": [self._key.as_dict(private=False)]}), encoding="utf-8")

    def issuers_setting(self, fhir_servers: list[str]) -> str:
        """``STRATCARE_JWT_ISSUERS`` trusting this client and the FHIR servers it may name."""
        return json.dumps({ISSUER: {"jwks_file": str(self.jwks_file), "fhir_servers": fhir_servers}})

    def token(self, audience: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "bench-ehr",
            "aud": audience,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": "ES384", "typ": "JWT", "kid": self._key.kid}
        return jwt.encode(header, claims, self._key, algorithms=["ES384"])


@functools.cache
def sample_request() -> dict[str, Any]:
    """The high-risk scenario's request, loaded once (callers copy it before changing anything)."""
    return {scenario.name: scenario for scenario in load_scenarios()}["high-risk"].request


def hook_with_prefetch(fhir_server: str) -> dict[str, Any]:
    """The high-risk patient with complete prefetch and fresh response ids: every call scores, stores
    and queues a new assessment."""
    body = copy.deepcopy(sample_request())
    body["hookInstance"] = str(uuid.uuid4())
    body["fhirServer"] = fhir_server
    for key in ("startBackResponses", "nihResponses"):
        for entry in body["prefetch"].get(key, {}).get("entry", []):
            entry["resource"]["id"] = f"bench-{uuid.uuid4().hex[:12]}"
            entry.pop("fullUrl", None)
    return body


def hook_without_prefetch(fhir_server: str, patient: str) -> dict[str, Any]:
    """No prefetch at all: the service fetches everything from ``fhir_server``."""
    body = copy.deepcopy(sample_request())
    body.pop("prefetch", None)
    body["hookInstance"] = str(uuid.uuid4())
    body["fhirServer"] = fhir_server
    body["context"]["patientId"] = patient
    body["context"]["encounterId"] = f"{patient}-enc"
    return body


def seed_resources(patient: str) -> list[dict[str, Any]]:
    """The sample patient's record (Patient, Encounter, responses, conditions) under another id."""
    prefetch = sample_request()["prefetch"]
    resources: list[dict[str, Any]] = []
    for value in prefetch.values():
        if value is None:
            continue
        if value.get("resourceType") == "Bundle":
            resources += [entry["resource"] for entry in value.get("entry", [])]
        else:
            resources.append(value)
    renamed = json.dumps(resources).replace(SAMPLE_PATIENT, patient)
    loaded: list[dict[str, Any]] = json.loads(renamed)
    return loaded


def patient_view_request() -> dict[str, Any]:
    """The same sample patient's data as a patient-view call (for the peers' trivial card)."""
    body = hook_with_prefetch("http://127.0.0.1/fhir")
    body["hook"] = "patient-view"
    body["context"].pop("encounterId", None)
    return body


def feedback_body(card: str, suggestion: str | None, index: int) -> dict[str, Any]:
    """One accepted card; ``index`` makes each post's outcome time distinct."""
    moment = datetime.now(UTC) + timedelta(microseconds=index)
    item: dict[str, Any] = {"card": card, "outcome": "accepted", "outcomeTimestamp": moment.isoformat()}
    if suggestion is not None:
        item["acceptedSuggestions"] = [{"id": suggestion}]
    return {"feedback": [item]}


def signed(client: CdsClient | None, port: int, path: str, body: dict[str, Any]) -> HttpRequest:
    """A POST of ``body`` to ``path``, with a fresh token when authentication is on."""
    headers: tuple[tuple[str, str], ...] = ()
    if client is not None:
        headers = (("Authorization", f"Bearer {client.token(f'http://{LOOPBACK}:{port}{path}')}"),)
    return HttpRequest("POST", path, json.dumps(body).encode(), headers)
