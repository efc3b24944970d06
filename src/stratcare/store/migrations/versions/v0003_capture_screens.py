"""Screens completed on the capture page, with where in the visit they were prompted and completed.

Frozen: it does not import ``stratcare.store.schema``, which moves on.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "capture_screens",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("response_id", sa.Text(), nullable=False),
        sa.Column("questionnaire", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("encounter_id", sa.Text(), nullable=True),
        sa.Column("fhir_server", sa.Text(), nullable=False),
        sa.Column("launch", sa.String(length=16), nullable=False),
        sa.Column("prompted_at_point", sa.String(length=32), nullable=False),
        sa.Column("completed_at_point", sa.String(length=32), nullable=False),
        sa.Column("authored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risk_band", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_screens")),
        sa.UniqueConstraint("response_id", name=op.f("uq_capture_screens_response_id")),
    )
    op.create_index("ix_capture_screens_authored", "capture_screens", ["authored"])


def downgrade() -> None:
    op.drop_index("ix_capture_screens_authored", table_name="capture_screens")
    op.drop_table("capture_screens")
