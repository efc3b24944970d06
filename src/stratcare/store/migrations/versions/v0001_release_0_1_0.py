"""The schema of release 0.1.0, the last one made by ``create_all``: the baseline of every later revision.

Frozen: it does not import ``stratcare.store.schema``, which moves on.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hook_calls",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("hook_instance", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("hook", sa.String(length=128), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("encounter_id", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("fhir_server", sa.Text(), nullable=True),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_calls")),
    )
    op.create_index("ix_hook_calls_received_at", "hook_calls", ["received_at"])
    op.create_index("ix_hook_calls_service_id_hook_instance", "hook_calls", ["service_id", "hook_instance"])
    op.create_table(
        "jwt_replay",
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("jti", sa.Text(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_jwt_replay")),
    )
    op.create_index("ix_jwt_replay_expires_at", "jwt_replay", ["expires_at"])
    op.create_table(
        "outbox",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("hook_instance", sa.Uuid(), nullable=False),
        sa.Column("fhir_server", sa.Text(), nullable=True),
        sa.Column("bundle", _json(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("delivered_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'in-flight', 'delivered', 'dead')", name=op.f("ck_outbox_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_table(
        "assessments",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("hook_call_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("instrument", sa.Text(), nullable=False),
        sa.Column("instrument_version", sa.String(length=64), nullable=True),
        sa.Column("questionnaire", sa.Text(), nullable=False),
        sa.Column("response_id", sa.Text(), nullable=False),
        sa.Column("response_version", sa.Text(), nullable=True),
        sa.Column("authored", _utc(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("psychosocial", sa.Integer(), nullable=True),
        sa.Column("risk_group", sa.String(length=16), nullable=True),
        sa.Column("duration_code", sa.String(length=64), nullable=True),
        sa.Column("frequency_code", sa.String(length=64), nullable=True),
        sa.Column("chronicity", sa.String(length=16), nullable=True),
        sa.Column("rejection_reasons", _json(), nullable=True),
        sa.CheckConstraint("kind IN ('scored', 'rejected')", name=op.f("ck_assessments_kind")),
        sa.ForeignKeyConstraint(
            ["hook_call_id"],
            ["hook_calls.id"],
            name=op.f("fk_assessments_hook_call_id_hook_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index("ix_assessments_hook_call_id", "assessments", ["hook_call_id"])
    op.create_table(
        "cards",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("hook_call_id", _id(), nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("pathway_action", sa.Text(), nullable=False),
        sa.Column("indicator", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("risk_group", sa.String(length=16), nullable=True),
        sa.Column("referral_suggested", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hook_call_id"],
            ["hook_calls.id"],
            name=op.f("fk_cards_hook_call_id_hook_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("uuid", name=op.f("uq_cards_uuid")),
    )
    op.create_index("ix_cards_hook_call_id", "cards", ["hook_call_id"])
    op.create_table(
        "card_suggestions",
        sa.Column("card_uuid", sa.Uuid(), nullable=False),
        sa.Column("suggestion_uuid", sa.Uuid(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_uuid"],
            ["cards.uuid"],
            name=op.f("fk_card_suggestions_card_uuid_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_uuid", "suggestion_uuid", name=op.f("pk_card_suggestions")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("card_uuid", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("outcome_timestamp", _utc(), nullable=False),
        sa.Column("accepted_suggestions", _json(), nullable=False),
        sa.Column("override_reason_system", sa.Text(), nullable=True),
        sa.Column("override_reason_code", sa.Text(), nullable=True),
        sa.Column("received_at", _utc(), nullable=False),
        sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name=op.f("ck_feedback_outcome")),
        sa.ForeignKeyConstraint(
            ["card_uuid"], ["cards.uuid"], name=op.f("fk_feedback_card_uuid_cards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_feedback_dedupe_key")),
    )
    op.create_index("ix_feedback_card_uuid", "feedback", ["card_uuid"])


def downgrade() -> None:
    op.drop_index("ix_feedback_card_uuid", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("card_suggestions")
    op.drop_index("ix_cards_hook_call_id", table_name="cards")
    op.drop_table("cards")
    op.drop_index("ix_assessments_hook_call_id", table_name="assessments")
    op.drop_table("assessments")
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_jwt_replay_expires_at", table_name="jwt_replay")
    op.drop_table("jwt_replay")
    op.drop_index("ix_hook_calls_service_id_hook_instance", table_name="hook_calls")
    op.drop_index("ix_hook_calls_received_at", table_name="hook_calls")
    op.drop_table("hook_calls")
