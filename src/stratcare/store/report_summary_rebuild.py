"""The report summary computed from the ledger tables: the migration's backfill, and the reference the
summary kept on write is tested against (``store.report_summary`` says what each row holds).

Each table is one ``INSERT … SELECT``; the patient days rank a day's calls and screens with window
functions as the write path merges them one call at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    union,
)

from stratcare.reports.measures import CLINICIAN_WORKFLOW, UNRECORDED_CLINIC
from stratcare.store import schema
from stratcare.store.report_summary import (
    IDENTIFICATION_LABELS,
    NO_CLINICIAN,
    NO_REASON,
    SCREEN_COLUMNS,
    SCREENS,
    VOCABULARY,
    screen_values,
)
from stratcare.store.reports_sql import card_verdicts_query, epoch_seconds, flag, identifying_action, utc_date

calls, assessments, cards, feedback = schema.hook_calls, schema.assessments, schema.cards, schema.feedback
statuses = schema.referral_statuses
days, card_days, override_days, labels = (
    schema.report_patient_days,
    schema.report_card_days,
    schema.report_override_days,
    schema.report_labels,
)


def rebuild_report_summary(connection: Connection) -> None:
    """Replace the summary tables' rows by ones computed from the ledger tables (labels are kept, and
    the texts not yet labelled are added)."""
    for table in (days, card_days, override_days):
        connection.execute(delete(table))
    connection.execute(insert(labels).from_select(["label"], _unlabelled()))
    for table, query in (
        (days, patient_days_query()),
        (card_days, card_days_query()),
        (override_days, override_days_query()),
    ):
        connection.execute(insert(table).from_select([c.name for c in table.columns], query))


def _unlabelled() -> Select[Any]:
    texts = union(
        *(select(calls.c[column].label("text")) for column in IDENTIFICATION_LABELS.values()),
        *(
            select(assessments.c[column].label("text")).where(assessments.c.kind == "scored")
            for column in SCREEN_COLUMNS.values()
        ),
    ).subquery("texts")
    known = exists().where(labels.c.label == texts.c.text)
    return select(texts.c.text).where(texts.c.text.is_not(None), ~known).order_by(texts.c.text)


def _key(cte: CTE) -> list[ColumnElement[Any]]:
    return [cte.c.clinic, cte.c.day, cte.c.patient_id]


def _same_day(left: CTE, right: CTE) -> ColumnElement[bool]:
    return and_(*(a == b for a, b in zip(_key(left), _key(right), strict=True)))


def _summarised_calls() -> CTE:
    """The calls the write path summarises: those with a card or an assessment."""
    return (
        select(
            calls.c.id,
            func.coalesce(calls.c.clinic, UNRECORDED_CLINIC).label("clinic"),
            utc_date(calls.c.received_at).label("day"),
            calls.c.patient_id,
            calls.c.received_at,
            calls.c.user_id,
            calls.c.workflow_point,
            calls.c.fhir_server,
        )
        .where(
            or_(
                exists().where(cards.c.hook_call_id == calls.c.id),
                exists().where(assessments.c.hook_call_id == calls.c.id),
            )
        )
        .cte("summarised_calls")
    )


def _identification(keyed: CTE) -> CTE:
    identifying = exists().where(
        cards.c.hook_call_id == keyed.c.id,
        identifying_action(cards.c.pathway_action, VOCABULARY),
    )
    ranked = (
        select(
            *_key(keyed),
            keyed.c.received_at.label("identified_at"),
            keyed.c.id.label("identified_call"),
            *(keyed.c[column] for column in IDENTIFICATION_LABELS.values()),
            func.row_number()
            .over(partition_by=_key(keyed), order_by=[keyed.c.received_at, keyed.c.id])
            .label("rank"),
        )
        .where(identifying)
        .cte("identifying_calls")
    )
    return select(ranked).where(ranked.c.rank == 1).cte("identification")


def _screen(keyed: CTE, fact: str) -> CTE:
    value = assessments.c[SCREEN_COLUMNS[fact]]
    age = epoch_seconds(keyed.c.received_at) - epoch_seconds(assessments.c.authored)
    ranked = (
        select(
            *_key(keyed),
            value.label("value"),
            keyed.c.received_at.label("at"),
            assessments.c.id.label("assessment"),
            age.label("age"),
            func.min(age).over(partition_by=_key(keyed)).label("least_age"),
            func.row_number()
            .over(partition_by=_key(keyed), order_by=[keyed.c.received_at.desc(), assessments.c.id.desc()])
            .label("rank"),
        )
        .select_from(keyed.join(assessments, assessments.c.hook_call_id == keyed.c.id))
        .where(
            assessments.c.kind == "scored", screen_values(fact, value), assessments.c.authored.is_not(None)
        )
        .cte(f"{fact}_screens")
    )
    return select(ranked).where(ranked.c.rank == 1).cte(f"{fact}_newest")


def _referrals(keyed: CTE) -> CTE:
    accepted = exists().where(feedback.c.card_uuid == cards.c.uuid, feedback.c.outcome == "accepted")
    seen_signed = exists().where(statuses.c.card_uuid == cards.c.uuid, statuses.c.signed_at.is_not(None))
    signed = and_(cards.c.referral_suggested, or_(accepted, seen_signed))
    high = cards.c.risk_group == VOCABULARY.high_risk_group
    return (
        select(
            *_key(keyed),
            (func.max(flag(cards.c.referral_suggested)) == 1).label("pended"),
            (func.max(flag(signed)) == 1).label("signed"),
            (func.max(flag(and_(signed, high))) == 1).label("signed_high"),
        )
        .select_from(keyed.join(cards, cards.c.hook_call_id == keyed.c.id))
        .group_by(*_key(keyed))
        .cte("referral_flags")
    )


def patient_days_query() -> Select[Any]:
    keyed = _summarised_calls()
    keys = select(*_key(keyed)).distinct().cte("patient_day_keys")
    found = _identification(keyed)
    screens = {fact: _screen(keyed, fact) for fact in SCREENS}
    referrals = _referrals(keyed)
    joined = keys.outerjoin(found, _same_day(keys, found)).outerjoin(referrals, _same_day(keys, referrals))
    columns: list[ColumnElement[Any]] = [*_key(keys), found.c.identified_at, found.c.identified_call]
    for name, column in IDENTIFICATION_LABELS.items():
        label = labels.alias(name)
        joined = joined.outerjoin(label, label.c.label == found.c[column])
        columns.append(label.c.id.label(name))
    for fact, screen in screens.items():
        label = labels.alias(f"{fact}_label")
        joined = joined.outerjoin(screen, _same_day(keys, screen)).outerjoin(
            label, label.c.label == screen.c.value
        )
        columns += [
            label.c.id.label(f"{fact}_label"),
            screen.c.at.label(f"{fact}_at"),
            screen.c.assessment.label(f"{fact}_assessment"),
            screen.c.age.label(f"{fact}_age"),
            screen.c.least_age.label(f"{fact}_least_age"),
        ]
    flags = [func.coalesce(referrals.c[f], false()).label(f) for f in ("pended", "signed", "signed_high")]
    names = [column.name for column in days.columns]
    by_name = {column.name: column for column in [*columns, *flags]}
    return select(*(by_name[name] for name in names)).select_from(joined)


def _call_key() -> list[ColumnElement[Any]]:
    return [
        func.coalesce(calls.c.clinic, UNRECORDED_CLINIC).label("clinic"),
        utc_date(calls.c.received_at).label("day"),
        func.coalesce(calls.c.user_id, NO_CLINICIAN).label("clinician"),
        func.coalesce(calls.c.workflow_point, CLINICIAN_WORKFLOW).label("workflow_point"),
    ]


def card_days_query() -> Select[Any]:
    key = _call_key()
    return card_verdicts_query(VOCABULARY.risk_actions, key).group_by(*(column.element for column in key))


def override_days_query() -> Select[Any]:
    key = _call_key()
    reason = [
        func.coalesce(feedback.c.override_reason_system, NO_REASON).label("reason_system"),
        func.coalesce(feedback.c.override_reason_code, NO_REASON).label("reason_code"),
    ]
    return (
        select(*key, *reason, func.count().label("items"))
        .select_from(
            feedback.join(cards, cards.c.uuid == feedback.c.card_uuid).join(
                calls, calls.c.id == cards.c.hook_call_id
            )
        )
        .where(feedback.c.outcome == "overridden")
        .group_by(*(column.element for column in [*key, *reason]))
    )
