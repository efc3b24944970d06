"""Outbox writes are unique by target server and assessment, not by assessment alone.

A write pending for one server no longer stops the same results from being queued for another. Rows keep
their ``fhir_server`` (NULL, in rows queued by 0.1.0 without one, still means the configured EHR base URL).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_key", type_="unique")
        batch.create_unique_constraint("uq_outbox_fhir_server_key", ["fhir_server", "key"])


def downgrade() -> None:
    """Fails while two rows share a key (the same results queued for two servers): delete one first."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_fhir_server_key", type_="unique")
        batch.create_unique_constraint("uq_outbox_key", ["key"])
