"""Reports: each hook call's clinic and workflow point, and the index the report queries start from.

``clinic`` is the Encounter's serviceProvider or location as configured (NULL for calls recorded before this
revision, reported as "unrecorded"); ``workflow_point`` stays NULL until a caller records one, which the
reports read as the clinician's workflow.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hook_calls") as batch:
        batch.add_column(sa.Column("clinic", sa.Text(), nullable=True))
        batch.add_column(sa.Column("workflow_point", sa.String(length=32), nullable=True))
    op.create_index("ix_hook_calls_clinic_received_at", "hook_calls", ["clinic", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_hook_calls_clinic_received_at", table_name="hook_calls")
    with op.batch_alter_table("hook_calls") as batch:
        batch.drop_column("workflow_point")
        batch.drop_column("clinic")
