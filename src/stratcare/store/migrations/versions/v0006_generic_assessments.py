"""Assessments are stored generically: band, scores, answers and flags, whatever the instrument.

Release 0.1.0 kept one column per STarT Back score (``total``, ``psychosocial``) and per NIH screen field
(``duration_code``, ``frequency_code``, ``chronicity``). Existing rows move into the generic columns:
each score column into ``scores`` under its name, the NIH answer codes into ``answers`` under their
Questionnaire linkIds, the band code into ``band`` (``<risk group>-risk`` for STarT Back, the chronicity
for the NIH screen, the codes the Questionnaires declare). ``risk_group`` keeps the band's alias.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SCORE_COLUMNS = ("total", "psychosocial")
# The 0.1.0 NIH screen columns and the linkIds of the items they held (Questionnaire-nih-clbp-screen.json).
ANSWER_COLUMNS = {"duration_code": "nih-duration", "frequency_code": "nih-frequency"}
LEGACY_COLUMNS = (*SCORE_COLUMNS, *ANSWER_COLUMNS, "chronicity")


def _json() -> TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _table(*columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table("assessments", sa.column("id", sa.BigInteger()), *columns)


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("band", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("scores", _json(), nullable=True))
        batch.add_column(sa.Column("answers", _json(), nullable=True))
        batch.add_column(sa.Column("flags", _json(), nullable=True))
    legacy = _table(
        *(sa.column(name, sa.Integer()) for name in SCORE_COLUMNS),
        *(sa.column(name, sa.String()) for name in (*ANSWER_COLUMNS, "chronicity", "risk_group", "kind")),
    )
    generic = _table(
        sa.column("band", sa.String()),
        sa.column("scores", _json()),
        sa.column("answers", _json()),
        sa.column("flags", _json()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(legacy)).mappings().all():
        if row["kind"] != "scored":
            continue
        scores = {name: row[name] for name in SCORE_COLUMNS if row[name] is not None}
        answers = {link_id: row[column] for column, link_id in ANSWER_COLUMNS.items() if row[column]}
        band = f"{row['risk_group']}-risk" if row["risk_group"] else row["chronicity"]
        connection.execute(
            sa.update(generic)
            .where(generic.c.id == row["id"])
            .values(band=band, scores=scores, answers=answers, flags=[])
        )
    with op.batch_alter_table("assessments") as batch:
        for name in LEGACY_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    """Scores, answers and bands of instruments 0.1.0 did not know are dropped."""
    with op.batch_alter_table("assessments") as batch:
        for name in SCORE_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in ANSWER_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("chronicity", sa.String(length=16), nullable=True))
    table = _table(
        sa.column("band", sa.String()),
        sa.column("scores", _json()),
        sa.column("answers", _json()),
        sa.column("risk_group", sa.String()),
        *(sa.column(name, sa.Integer()) for name in SCORE_COLUMNS),
        *(sa.column(name, sa.String()) for name in (*ANSWER_COLUMNS, "chronicity")),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(table)).mappings().all():
        scores, answers = row["scores"] or {}, row["answers"] or {}
        values: dict[str, Any] = {name: scores.get(name) for name in SCORE_COLUMNS}
        values |= {column: answers.get(link_id) for column, link_id in ANSWER_COLUMNS.items()}
        if row["band"] in ("acute", "chronic"):
            values["chronicity"] = row["band"]
        connection.execute(sa.update(table).where(table.c.id == row["id"]).values(**values))
    with op.batch_alter_table("assessments") as batch:
        for name in ("band", "scores", "answers", "flags"):
            batch.drop_column(name)
