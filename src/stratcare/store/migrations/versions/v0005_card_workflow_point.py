"""Cards record where in the visit they prompted the screen (pre-visit, front-desk, rooming, clinician).

Nullable: cards issued before this revision, and calls with no workflow facts, have none.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("workflow_point", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("workflow_point")
