"""Cards record where in the visit they prompted the screen (pre-visit, front-desk, rooming, clinician).

Nullable: cards issued before this revision, and calls with no workflow facts, have none.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("workflow_point", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("workflow_point")
