"""How results are written back to the EHR: the ``writeback`` part of the service settings.

Read from ``STRATCARE_WRITEBACK_*`` variables when embedded in ``Settings`` as ``writeback``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, HttpUrl, model_validator

from stratcare.auth.config import FhirServerUrl
from stratcare.writeback.backend_auth import BackendServicesConfig

WritebackMode = Literal["outbox", "system-actions", "both", "off"]
SigningAlgorithm = Literal["RS384", "ES384", "RS256", "ES256", "RS512", "ES512"]
"""The algorithms ``backend_auth.SIGNING_ALGORITHMS`` accepts."""


class WritebackSettings(BaseModel):
    mode: WritebackMode = Field(
        default="outbox",
        description=(
            "outbox: queue a transaction Bundle per assessment and deliver it to the FHIR server; "
            "system-actions: return the resources as CDS Hooks systemActions for the EHR to apply; "
            "both; off: write nothing."
        ),
    )
    ehr_base_url: HttpUrl | None = Field(
        default=None, description="FHIR base URL to write to when a hook call names no fhirServer."
    )
    allowlist: tuple[FhirServerUrl, ...] = Field(
        default=(),
        description=(
            "With authentication off: FHIR servers a call's results may be written to (empty: none but "
            "ehr_base_url). With authentication on, each issuer's writeback_servers say it instead."
        ),
    )
    backend_client_id: str | None = Field(default=None, description="SMART Backend Services client id.")
    backend_token_url: HttpUrl | None = Field(default=None, description="The EHR's OAuth 2.0 token endpoint.")
    backend_private_key_file: Path | None = Field(
        default=None, description="Private JWK (JSON) or PEM file that signs the client assertion."
    )
    backend_key_id: str | None = Field(default=None, description="``kid`` of the key the EHR registered.")
    backend_algorithm: SigningAlgorithm = "RS384"
    backend_scope: str = Field(default="system/Observation.write system/RiskAssessment.write", min_length=1)
    batch_size: int = Field(default=20, ge=1, le=500, description="Rows a worker claims per pass.")
    concurrency: int = Field(default=4, ge=1, le=64, description="Deliveries a worker runs at once.")
    max_attempts: int = Field(
        default=30,
        ge=1,
        le=1000,
        description=(
            "Attempts before a row is dead. With the default backoff the waits grow to the hour cap after "
            "about ten attempts, so 30 rides out an EHR outage of several hours."
        ),
    )
    backoff_base_seconds: float = Field(default=5.0, gt=0, description="Wait after the first failure.")
    backoff_max_seconds: float = Field(default=3600.0, gt=0, description="Longest wait between attempts.")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a claim lasts; must exceed one delivery's timeout."
    )
    idle_poll_seconds: float = Field(default=5.0, gt=0, description="Poll interval of an idle worker.")
    retain_delivered_days: float | None = Field(
        default=30.0,
        gt=0,
        description="Days a delivered write (and its Bundle) stays in the outbox; unset keeps them forever.",
    )
    run_in_process: bool = Field(
        default=True, description="Run the delivery worker in the web process (else run it separately)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        backend = [
            self.backend_client_id,
            self.backend_token_url,
            self.backend_private_key_file,
            self.backend_key_id,
        ]
        if any(value is not None for value in backend) and not all(value is not None for value in backend):
            raise ValueError(
                "backend services needs backend_client_id, backend_token_url, backend_private_key_file "
                "and backend_key_id together"
            )
        if backend[0] is not None and self.ehr_base_url is None:
            raise ValueError("backend services credentials need ehr_base_url, the server they are for")
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds must not be less than backoff_base_seconds")
        return self

    @property
    def queues_writes(self) -> bool:
        return self.mode in ("outbox", "both")

    @property
    def returns_system_actions(self) -> bool:
        return self.mode in ("system-actions", "both")

    def backend_config(self) -> BackendServicesConfig | None:
        """The Backend Services client for ``ehr_base_url``, if configured."""
        if (
            self.backend_client_id is None
            or self.backend_token_url is None
            or self.backend_private_key_file is None
            or self.backend_key_id is None
        ):
            return None
        return BackendServicesConfig(
            token_url=str(self.backend_token_url),
            client_id=self.backend_client_id,
            private_key_file=self.backend_private_key_file,
            key_id=self.backend_key_id,
            algorithm=self.backend_algorithm,
            scope=self.backend_scope,
        )
