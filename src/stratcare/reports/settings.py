"""Report settings: the ``reports`` part of the service settings, read from ``STRATCARE_REPORTS_*``."""

from __future__ import annotations

from pydantic import BaseModel, Field, HttpUrl, SecretStr

from stratcare.reports.clinic import ClinicSource


class SupportLink(BaseModel):
    label: str = Field(min_length=1)
    url: HttpUrl


class ReportSettings(BaseModel):
    clinic_source: ClinicSource = Field(
        default=ClinicSource.SERVICE_PROVIDER,
        description="Which Encounter element names a hook call's clinic: service-provider or location.",
    )
    episode_window_days: int = Field(
        default=28, ge=1, le=365, description="A screen counts for the episode when this recent."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token that opens every clinic's reports (small deployments)."
    )
    oidc_issuer: HttpUrl | None = Field(
        default=None, description="OIDC issuer whose bearer tokens open reports (its JWKS via discovery)."
    )
    oidc_audience: str | None = Field(default=None, description="Audience report tokens must carry.")
    oidc_jwks_url: HttpUrl | None = Field(
        default=None, description="The issuer's JWKS URL, when not taken from its discovery document."
    )
    clinic_claim: str = Field(
        default="clinic", min_length=1, description="Token claim naming the user's clinic ('*': all clinics)."
    )
    identifiable_scope: str = Field(
        default="reports:identifiable",
        min_length=1,
        description="Scope that lets a user see patient ids in missed-patient lists.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="Secret keying the pseudonyms of missed-patient lists (random per start when unset).",
    )
    fidelity_prompt_below: dict[str, float] = Field(
        default_factory=dict,
        description="Per clinic ('*': every clinic), the fidelity under which a clinician's next card "
        "carries a gentle prompt (JSON object, 0-1).",
    )
    fidelity_min_decisions: int = Field(
        default=5, ge=1, description="Decisions a clinician needs before fidelity can prompt."
    )
    support_links: dict[str, list[SupportLink]] = Field(
        default_factory=dict,
        description="Per clinic ('*': every clinic), training and model-consultation links shown on cards "
        "(JSON object of lists of {label, url}).",
    )
