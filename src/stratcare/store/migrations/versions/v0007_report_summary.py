"""The report summary (patient days, card days, override days, and the labels patient days refer to),
referral statuses, and the index that finds one patient's calls of a day; the summary is backfilled from
the rows already stored.

Frozen: it does not import ``stratcare.store``, which moves on. The backfill computes what
``store.report_summary_rebuild`` computes at this revision (a test holds the two equal): for each patient,
clinic and UTC day with a card or an assessment, the day's first call with a card other than a red flag
or a critical-flag card,
its newest scored screen with a risk group and with a pain-duration band (by call time, then id) with
their ages in seconds and the least such age, and whether a card proposed, and a clinician signed, a
referral; per clinic, clinician, workflow point and day, the cards and their verdicts; and the override
items by reason.
Nothing is signed by a ServiceRequest status yet: none was read before this revision.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RISK_ACTIONS = "'low-risk', 'medium-risk', 'high-risk'"
OFF_PATHWAY_ACTIONS = "'red-flag'"
REOPENABLE = ("risk", "duration")
DURATION_BANDS = "'acute', 'chronic'"
"""The pain-duration screen's band codes (Questionnaire-nih-clbp-screen.json) at this revision."""
"""Partial indexes on the days whose newest screen is older than another of the day's."""
SUMMARY_INDEXES = {
    "report_patient_days": "ix_report_patient_days_day",
    "report_card_days": "ix_report_card_days_day",
    "report_override_days": "ix_report_override_days_day",
}


def _day_key() -> list[sa.Column[object]]:
    return [
        sa.Column("clinic", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    ]


def _id() -> TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _screen(fact: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{fact}_label", sa.BigInteger(), nullable=True),
        sa.Column(f"{fact}_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(f"{fact}_assessment", sa.BigInteger(), nullable=True),
        sa.Column(f"{fact}_age", sa.BigInteger(), nullable=True),
        sa.Column(f"{fact}_least_age", sa.BigInteger(), nullable=True),
    ]


def _create_tables() -> None:
    op.create_index("ix_hook_calls_patient_id_received_at", "hook_calls", ["patient_id", "received_at"])
    op.create_table(
        "referral_statuses",
        sa.Column("card_uuid", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_uuid"],
            ["cards.uuid"],
            name=op.f("fk_referral_statuses_card_uuid_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_uuid", name=op.f("pk_referral_statuses")),
    )
    op.create_table(
        "report_labels",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_labels")),
        sa.UniqueConstraint("label", name=op.f("uq_report_labels_label")),
    )
    op.create_table(
        "report_patient_days",
        *_day_key(),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("identified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("identified_call", sa.BigInteger(), nullable=True),
        sa.Column("clinician_label", sa.BigInteger(), nullable=True),
        sa.Column("workflow_point_label", sa.BigInteger(), nullable=True),
        sa.Column("fhir_server_label", sa.BigInteger(), nullable=True),
        *_screen("risk"),
        *_screen("duration"),
        sa.Column("pended", sa.Boolean(), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("signed_high", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("clinic", "day", "patient_id", name=op.f("pk_report_patient_days")),
    )
    counters = ("cards", "with_feedback", "accepted", "risk_decisions", "risk_decisions_matched")
    op.create_table(
        "report_card_days",
        *_day_key(),
        sa.Column("clinician", sa.Text(), nullable=False),
        sa.Column("workflow_point", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counters),
        sa.PrimaryKeyConstraint(
            "clinic", "day", "clinician", "workflow_point", name=op.f("pk_report_card_days")
        ),
    )
    op.create_table(
        "report_override_days",
        *_day_key(),
        sa.Column("clinician", sa.Text(), nullable=False),
        sa.Column("workflow_point", sa.String(length=32), nullable=False),
        sa.Column("reason_system", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.Text(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "clinic",
            "day",
            "clinician",
            "workflow_point",
            "reason_system",
            "reason_code",
            name=op.f("pk_report_override_days"),
        ),
    )
    for table, index in SUMMARY_INDEXES.items():
        op.create_index(index, table, ["day"])
    for fact in REOPENABLE:
        reopenable = sa.text(f"{fact}_age > {fact}_least_age")
        op.create_index(
            f"ix_report_patient_days_{fact}_reopenable",
            "report_patient_days",
            ["day"],
            postgresql_where=reopenable,
            sqlite_where=reopenable,
        )


def _functions(dialect: str) -> dict[str, str]:
    """The two expressions whose spelling differs: a call's UTC day and a timestamp's epoch seconds."""
    if dialect == "postgresql":
        return {
            "day": "CAST(c.received_at AT TIME ZONE 'UTC' AS DATE)",
            "call_epoch": "CAST(EXTRACT(EPOCH FROM k.received_at) AS BIGINT)",
            "authored_epoch": "CAST(EXTRACT(EPOCH FROM a.authored) AS BIGINT)",
        }
    return {
        "day": "date(c.received_at)",
        "call_epoch": "CAST(strftime('%s', k.received_at) AS INTEGER)",
        "authored_epoch": "CAST(strftime('%s', a.authored) AS INTEGER)",
    }


SCREEN = """
{fact}_ranked AS (
  SELECT k.clinic, k.day, k.patient_id, a.{value} AS value, k.received_at AS at, a.id AS assessment,
    {call_epoch} - {authored_epoch} AS age,
    min({call_epoch} - {authored_epoch}) OVER (PARTITION BY k.clinic, k.day, k.patient_id) AS least_age,
    row_number() OVER (PARTITION BY k.clinic, k.day, k.patient_id ORDER BY k.received_at DESC, a.id DESC)
      AS rank
  FROM keyed k JOIN assessments a ON a.hook_call_id = k.id
  WHERE a.kind = 'scored' AND a.{value} {values} AND a.authored IS NOT NULL
),
{fact}_newest AS (
  SELECT n.*, l.id AS label FROM {fact}_ranked n JOIN report_labels l ON l.label = n.value WHERE n.rank = 1
)"""

PATIENT_DAYS = """
INSERT INTO report_patient_days (clinic, day, patient_id, identified_at, identified_call, clinician_label,
  workflow_point_label, fhir_server_label, risk_label, risk_at, risk_assessment, risk_age, risk_least_age,
  duration_label, duration_at, duration_assessment, duration_age, duration_least_age, pended, signed,
  signed_high)
WITH keyed AS (
  SELECT c.id, COALESCE(c.clinic, 'unrecorded') AS clinic, {day} AS day, c.patient_id, c.received_at,
    c.user_id, c.workflow_point, c.fhir_server
  FROM hook_calls c
  WHERE EXISTS (SELECT 1 FROM cards WHERE cards.hook_call_id = c.id)
    OR EXISTS (SELECT 1 FROM assessments WHERE assessments.hook_call_id = c.id)
),
identifying AS (
  SELECT k.*, row_number() OVER (PARTITION BY k.clinic, k.day, k.patient_id ORDER BY k.received_at, k.id)
    AS rank
  FROM keyed k
  WHERE EXISTS (
    SELECT 1 FROM cards WHERE cards.hook_call_id = k.id AND cards.pathway_action NOT IN ({off_pathway})
      AND substr(cards.pathway_action, 1, 5) <> 'flag:'
  )
),
{risk},
{duration},
flags AS (
  SELECT k.clinic, k.day, k.patient_id,
    max(CASE WHEN cards.referral_suggested THEN 1 ELSE 0 END) = 1 AS pended,
    max(CASE WHEN cards.referral_suggested AND accepted THEN 1 ELSE 0 END) = 1 AS signed,
    max(CASE WHEN cards.referral_suggested AND accepted AND cards.risk_group = 'high' THEN 1 ELSE 0 END) = 1
      AS signed_high
  FROM keyed k JOIN (
    SELECT cards.*, EXISTS (
      SELECT 1 FROM feedback f WHERE f.card_uuid = cards.uuid AND f.outcome = 'accepted'
    ) AS accepted
    FROM cards
  ) cards ON cards.hook_call_id = k.id
  GROUP BY k.clinic, k.day, k.patient_id
),
keys AS (SELECT DISTINCT clinic, day, patient_id FROM keyed)
SELECT keys.clinic, keys.day, keys.patient_id, i.received_at, i.id, lu.id, lw.id, lf.id, r.label, r.at,
  r.assessment, r.age, r.least_age, n.label, n.at, n.assessment, n.age, n.least_age,
  COALESCE(flags.pended, FALSE), COALESCE(flags.signed, FALSE), COALESCE(flags.signed_high, FALSE)
FROM keys
LEFT JOIN identifying i ON i.rank = 1 AND {same_day_i}
LEFT JOIN report_labels lu ON lu.label = i.user_id
LEFT JOIN report_labels lw ON lw.label = i.workflow_point
LEFT JOIN report_labels lf ON lf.label = i.fhir_server
LEFT JOIN risk_newest r ON {same_day_r}
LEFT JOIN duration_newest n ON {same_day_n}
LEFT JOIN flags ON {same_day_flags}
"""

LABELS = """
INSERT INTO report_labels (label)
SELECT DISTINCT text FROM (
  SELECT user_id AS text FROM hook_calls
  UNION SELECT workflow_point FROM hook_calls
  UNION SELECT fhir_server FROM hook_calls
  UNION SELECT risk_group FROM assessments WHERE kind = 'scored'
  UNION SELECT band FROM assessments WHERE kind = 'scored'
) texts
WHERE text IS NOT NULL
ORDER BY text
"""

CALL_KEY = """COALESCE(c.clinic, 'unrecorded'), {day}, COALESCE(c.user_id, ''),
  COALESCE(c.workflow_point, 'clinician')"""

CARD_DAYS = """
INSERT INTO report_card_days (clinic, day, clinician, workflow_point, cards, with_feedback, accepted,
  risk_decisions, risk_decisions_matched)
SELECT {key}, count(*), count(v.card_uuid), COALESCE(sum(v.accepted), 0),
  sum(CASE WHEN cards.pathway_action IN ({risk_actions}) AND v.card_uuid IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN cards.pathway_action IN ({risk_actions}) AND v.accepted = 1 THEN 1 ELSE 0 END)
FROM cards JOIN hook_calls c ON c.id = cards.hook_call_id
LEFT JOIN (
  SELECT card_uuid, max(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END) AS accepted
  FROM feedback GROUP BY card_uuid
) v ON v.card_uuid = cards.uuid
GROUP BY {key}
"""

OVERRIDE_DAYS = """
INSERT INTO report_override_days (clinic, day, clinician, workflow_point, reason_system, reason_code, items)
SELECT {key}, COALESCE(f.override_reason_system, ''), COALESCE(f.override_reason_code, ''), count(*)
FROM feedback f JOIN cards ON cards.uuid = f.card_uuid JOIN hook_calls c ON c.id = cards.hook_call_id
WHERE f.outcome = 'overridden'
GROUP BY {key}, COALESCE(f.override_reason_system, ''), COALESCE(f.override_reason_code, '')
"""


def _same_day(alias: str) -> str:
    return " AND ".join(f"{alias}.{column} = keys.{column}" for column in ("clinic", "day", "patient_id"))


def _backfill() -> None:
    connection = op.get_bind()
    functions = _functions(connection.dialect.name)
    screens = {
        fact: SCREEN.format(fact=fact, value=value, values=values, **functions)
        for fact, value, values in (
            ("risk", "risk_group", "IS NOT NULL"),
            ("duration", "band", f"IN ({DURATION_BANDS})"),
        )
    }
    patient_days = PATIENT_DAYS.format(
        day=functions["day"],
        off_pathway=OFF_PATHWAY_ACTIONS,
        same_day_i=_same_day("i"),
        same_day_r=_same_day("r"),
        same_day_n=_same_day("n"),
        same_day_flags=_same_day("flags"),
        **screens,
    )
    key = CALL_KEY.format(day=functions["day"])
    for statement in (
        LABELS,
        patient_days,
        CARD_DAYS.format(key=key, risk_actions=RISK_ACTIONS),
        OVERRIDE_DAYS.format(key=key),
    ):
        connection.execute(sa.text(statement))


def upgrade() -> None:
    _create_tables()
    _backfill()


def downgrade() -> None:
    for fact in REOPENABLE:
        op.drop_index(f"ix_report_patient_days_{fact}_reopenable", table_name="report_patient_days")
    for table, index in SUMMARY_INDEXES.items():
        op.drop_index(index, table_name=table)
    tables = ("report_override_days", "report_card_days", "report_patient_days", "report_labels")
    for table in (*tables, "referral_statuses"):
        op.drop_table(table)
    op.drop_index("ix_hook_calls_patient_id_received_at", table_name="hook_calls")
