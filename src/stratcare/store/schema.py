"""The store's tables, in one ``MetaData``, with types that behave the same on SQLite and PostgreSQL.

Every change here ships with an Alembic revision in ``migrations/versions`` (see ``store.migrate``); a test
fails while the two differ.

What is never stored: access tokens, and free text typed by users (a feedback ``userComment`` may hold
patient details, so only the override reason's coding is kept).

``hook_calls`` keeps every call, even a repeated ``hookInstance``: EHRs retry, and each attempt was answered,
so each is an auditable fact. ``(service_id, hook_instance)`` is indexed, not unique.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

from stratcare.writeback.outbox import OutboxState


def as_utc(value: datetime, name: str = "datetime") -> datetime:
    """``value`` in UTC; a naive datetime is refused because its zone would be a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect (SQLite stores none and reads back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json() -> TypeEngine[Any]:
    return JSON().with_variant(JSONB(), "postgresql")


def _id() -> TypeEngine[int]:
    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    return BigInteger().with_variant(Integer(), "sqlite")


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

hook_calls = Table(
    "hook_calls",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("hook_instance", Uuid(), nullable=False),
    Column("service_id", String(128), nullable=False),
    Column("hook", String(128), nullable=False),
    Column("patient_id", Text(), nullable=False),
    Column("encounter_id", Text()),
    Column("user_id", Text()),
    Column("fhir_server", Text()),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("outcome", String(32), nullable=False),
    # Reports: the clinic (encounter's serviceProvider or location) and where in the workflow the hook ran.
    Column("clinic", Text()),
    Column("workflow_point", String(32)),
    Index(None, "service_id", "hook_instance"),
    Index(None, "received_at"),
    Index(None, "clinic", "received_at"),
)

assessments = Table(
    "assessments",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("hook_call_id", ForeignKey("hook_calls.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    # Canonical URL of the instrument, without version.
    Column("instrument", Text(), nullable=False),
    Column("instrument_version", String(64)),
    # The canonical as written in the response (``url`` or ``url|version``).
    Column("questionnaire", Text(), nullable=False),
    Column("response_id", Text(), nullable=False),
    Column("response_version", Text()),
    Column("authored", UtcDateTime()),
    # The band's alias, where the instrument declares one (the STarT Back risk group).
    Column("risk_group", String(16)),
    # The band code, the named scores, the answer codes by linkId and the raised flags, as the
    # instrument's content declares them.
    Column("band", String(64)),
    Column("scores", _json()),
    Column("answers", _json()),
    Column("flags", _json()),
    Column("rejection_reasons", _json()),
    CheckConstraint("kind IN ('scored', 'rejected')", name="kind"),
)

cards = Table(
    "cards",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("uuid", Uuid(), nullable=False, unique=True),
    Column("hook_call_id", ForeignKey("hook_calls.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("service_id", String(128), nullable=False),
    Column("pathway_action", Text(), nullable=False),
    Column("indicator", String(16), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("risk_group", String(16)),
    Column("referral_suggested", Boolean(), nullable=False),
    Column("workflow_point", String(32)),
)

card_suggestions = Table(
    "card_suggestions",
    metadata,
    Column("card_uuid", ForeignKey("cards.uuid", ondelete="CASCADE"), primary_key=True),
    Column("suggestion_uuid", Uuid(), primary_key=True),
    Column("label", Text(), nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    # SHA-256 of what makes an item the same item: a repeated item is stored once.
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("service_id", String(128), nullable=False),
    Column("card_uuid", ForeignKey("cards.uuid", ondelete="CASCADE"), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("outcome_timestamp", UtcDateTime(), nullable=False),
    # Sorted suggestion uuids (strings); empty for an override.
    Column("accepted_suggestions", _json(), nullable=False),
    Column("override_reason_system", Text()),
    Column("override_reason_code", Text()),
    Column("received_at", UtcDateTime(), nullable=False),
    CheckConstraint("outcome IN ('accepted', 'overridden')", name="outcome"),
)

_STATES = ", ".join(f"'{state.value}'" for state in OutboxState)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    # The assessment's identifier; with the target server, what makes a write the same write.
    Column("key", Text(), nullable=False),
    Column("hook_instance", Uuid(), nullable=False),
    # Normalised base URL; NULL only in rows queued by 0.1.0 for the configured EHR base URL.
    Column("fhir_server", Text()),
    Column("bundle", _json(), nullable=False),
    Column("state", String(16), nullable=False),
    # Delivery attempts started (counted at claim, so a worker that dies mid-delivery still counts).
    Column("attempts", Integer(), nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime()),
    Column("claimed_by", Text()),
    Column("last_error", Text()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime()),
    CheckConstraint(f"state IN ({_STATES})", name="state"),
    UniqueConstraint("fhir_server", "key"),
    Index(None, "state", "next_attempt_at"),
)

jwt_replay = Table(
    "jwt_replay",
    metadata,
    Column("issuer", Text(), primary_key=True),
    Column("jti", Text(), primary_key=True),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# One row per screen completed on the capture page; workflow points are codes of CodeSystem workflow-point.
capture_screens = Table(
    "capture_screens",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("response_id", Text(), nullable=False, unique=True),
    Column("questionnaire", Text(), nullable=False),
    Column("patient_id", Text(), nullable=False),
    Column("encounter_id", Text()),
    Column("fhir_server", Text(), nullable=False),
    Column("launch", String(16), nullable=False),
    Column("prompted_at_point", String(32), nullable=False),
    Column("completed_at_point", String(32), nullable=False),
    Column("authored", UtcDateTime(), nullable=False),
    Column("risk_band", String(64)),
    Index(None, "authored"),
)
