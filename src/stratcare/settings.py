"""Service configuration, read from ``STRATCARE_*`` environment variables (and an optional ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from stratcare.auth import AuthEnvironment
from stratcare.reports.settings import ReportSettings
from stratcare.writeback.settings import WritebackSettings


class Settings(BaseSettings, AuthEnvironment):
    """Every setting has a safe default for the embedded demo (SQLite, bundled content)."""

    model_config = SettingsConfigDict(
        env_prefix="STRATCARE_",
        env_file=".env",
        extra="ignore",
        # STRATCARE_WRITEBACK_MODE sets writeback.mode; flat names (STRATCARE_DATABASE_URL) are unaffected.
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./stratcare.db",
        description="SQLAlchemy URL of the store: SQLite by default, PostgreSQL in production.",
    )
    database_upgrade_on_start: bool = Field(
        default=True,
        description="Migrate the store to this release's schema when the service or a worker starts "
        "(false: run `stratcare db upgrade` yourself, e.g. as a Job; start-up then checks the revision).",
    )
    content_dir: Path | None = Field(
        default=None,
        description="Folder holding hooks/, questionnaires/, plan_definitions/ and terminology/.",
    )
    licensed_content_dir: Path | None = Field(
        default=None,
        description="Folder with licensed instrument wording (e.g. start-msk-wording.json); without it a "
        "licensed tool is not offered and a response to it is refused with the reason.",
    )
    letter_templates_dir: Path | None = Field(
        default=None,
        description="A clinic's folder of letter templates, searched before the content's letters/ folder.",
    )
    public_base_url: HttpUrl | None = Field(
        default=None,
        description="The service's public URL when behind a proxy (used for links and token audiences).",
    )
    fhir_timeout_seconds: float = Field(
        default=4.0,
        gt=0,
        le=60,
        description="Deadline for completing a hook call's prefetch: every FHIR request and page it needs.",
    )
    hook_deadline_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Overall deadline of one hook call from its arrival: prefetch (within its own timeout) "
        "and terminology lookups get it less a fifth kept for recording the call; a call whose prefetch "
        "misses it is answered 412, one whose record is not confirmed within it 503.",
    )
    fhir_max_pages: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Most pages read for one prefetch search; a longer result is refused (412), never cut.",
    )
    terminology_server_url: HttpUrl | None = Field(
        default=None,
        description="FHIR terminology server asked for SNOMED CT hierarchy ($validate-code); none: "
        "the ValueSets' shipped expansions are used.",
    )
    terminology_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="Bound on all terminology server questions of one hook call; unanswered ones fall "
        "back to the shipped expansion.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_body_bytes: int = Field(
        default=5 * 1024 * 1024,
        gt=0,
        description="Largest request body accepted (prefetch included); larger bodies get 413.",
    )
    max_json_depth: int = Field(
        default=64, gt=0, description="Deepest JSON nesting accepted in a request body; deeper gets 400."
    )
    cors_origins: list[str] = Field(
        default=["https://sandbox.cds-hooks.org"],
        description="Browser origins allowed to call the service (JSON list).",
    )
    cors_origin_regex: str | None = Field(
        default=r"https?://(localhost|127\.0\.0\.1)(:\d+)?",
        description="Regular expression of further allowed origins (localhost by default); empty disables.",
    )
    environment: Literal["production", "development"] = Field(
        default="production",
        description="production closes /metrics (without a token) and the API docs; development opens both.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token GET /metrics requires (in any environment); opens it in production.",
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve /docs, /redoc and /openapi.json (default: in development only).",
    )
    capture_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Key that signs capture links and form tickets (32+ random bytes, the same on every "
        "replica); none: a new key per process, so links work only on the process that issued them.",
    )
    capture_link_seconds: int = Field(
        default=900, gt=0, le=7 * 24 * 3600, description="How long a signed capture link may be opened."
    )
    capture_form_seconds: int = Field(
        default=3600, gt=0, le=24 * 3600, description="How long an opened capture form may be submitted."
    )
    smart_client_id: str | None = Field(
        default=None,
        description="This service's client_id at the EHR's authorization server, for the capture page's "
        "SMART App Launch; none: /capture/launch is refused.",
    )

    writeback: WritebackSettings = Field(
        default_factory=WritebackSettings, description="Write-back of results (STRATCARE_WRITEBACK_*)."
    )
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Audit-and-feedback reports (STRATCARE_REPORTS_*)."
    )

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment == "development"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
