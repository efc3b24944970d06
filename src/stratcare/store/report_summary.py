"""The report summary, kept on write: the hook and feedback ledgers update it in their own transactions.

A hook call with a card or an assessment upserts one ``report_patient_days`` row (its patient, clinic and
UTC day) and, with cards, one ``report_card_days`` row (its clinic, clinician, workflow point and day).
The upserts merge rather than overwrite, so calls may commit in any order: the identifying call kept is
the day's earliest (by time, then id), the screen kept the day's newest (by call time, then assessment
id), flags are or-ed and counts added. A screen's age is computed by the database with the expression
the reports use (``epoch_seconds``), so a summary row and a recomputation agree to the second.

Feedback adds each card's first verdict to its card day (once a card has feedback it counts as decided;
once any item accepted it, as accepted), each override item to ``report_override_days``, and marks the
card's patient day signed when it proposed a referral and an item accepted it. A referral status read
back from the EHR marks it signed the same way. ``store.report_summary_rebuild`` computes the same rows
from the ledger tables (the migration's backfill; tests compare the two).

The summary follows ``VOCABULARY``, the shipped pathway's names; reports that ask for another read the
ledger tables instead (``store.reports``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Insert,
    Table,
    and_,
    bindparam,
    case,
    exists,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from stratcare.engine.ports import HookCallFacts, IssuedCard
from stratcare.reports.measures import CLINICIAN_WORKFLOW, UNRECORDED_CLINIC, Vocabulary, identifies
from stratcare.store import schema
from stratcare.store.reports_sql import bound_moment, epoch_seconds
from stratcare.store.schema import UtcDateTime, as_utc

T = TypeVar("T")
VOCABULARY = Vocabulary()
"""The names the summary is kept for (the shipped PlanDefinition's)."""

NO_CLINICIAN = ""
"""The clinician key of a card or override day whose calls recorded no user."""
NO_REASON = ""
"""The reason system and code of an override item that gave no coded reason."""

days, card_days, override_days, labels = (
    schema.report_patient_days,
    schema.report_card_days,
    schema.report_override_days,
    schema.report_labels,
)
SCREEN_COLUMNS = {"risk": "risk_group", "duration": "band"}
"""The screen facts a patient day keeps, and the ``assessments`` column each comes from: the STarT Back
risk group (the band's alias), and the band of the pain-duration screen (one of ``screen_values``)."""
SCREENS = tuple(SCREEN_COLUMNS)
IDENTIFICATION_LABELS = {
    "clinician_label": "user_id",
    "workflow_point_label": "workflow_point",
    "fhir_server_label": "fhir_server",
}
"""The labelled facts of a day's first identifying call, and the ``hook_calls`` column each comes from."""


def clinic_key(clinic: str | None) -> str:
    return UNRECORDED_CLINIC if clinic is None else clinic


def utc_day(moment: datetime) -> date:
    return as_utc(moment).date()


def screen_values(fact: str, column: ColumnElement[Any]) -> ColumnElement[bool]:
    """The assessments whose ``column`` gives ``fact``."""
    if fact == "duration":
        return column.in_(sorted(VOCABULARY.duration_bands))
    return column.is_not(None)


def screen_value(fact: str, value: str | None) -> bool:
    """Whether an assessment's value of ``SCREEN_COLUMNS[fact]`` gives ``fact`` (``screen_values``)."""
    return value in VOCABULARY.duration_bands if fact == "duration" else value is not None


@dataclass(frozen=True)
class ScoredScreen:
    """A stored scored assessment the summary keeps: which fact it gives, its id, value and authoring."""

    fact: str
    """``risk`` or ``duration``."""
    assessment_id: int
    value: str
    authored: datetime


def _upsert(dialect: str, table: Table) -> Any:
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return builder(table)


def _key(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _once_per_dialect(build: Callable[[str], T]) -> Callable[[AsyncConnection], T]:
    """``build`` run once per dialect: the write path's statements are built once, with bound
    parameters, so that each call only binds its values (building one costs more than running it)."""
    built = cache(build)
    return lambda connection: built(connection.dialect.name)


def _age(authored: str) -> ColumnElement[int]:
    """A screen's age at the call, in seconds, from the bound ``received_at`` and ``authored``."""
    moment = [bound_moment(bindparam(name, type_=UtcDateTime())) for name in ("received_at", authored)]
    return epoch_seconds(moment[0]) - epoch_seconds(moment[1])


class ReportLabels:
    """Ids of ``report_labels`` texts, remembered once seen committed (a label is never removed or
    renumbered, so a remembered id stays right); one per store, shared by its ledgers."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    async def ids(self, connection: AsyncConnection, texts: Iterable[str | None]) -> dict[str, int]:
        """The id of each of ``texts`` (None left out), adding those not yet labelled."""
        wanted = {text for text in texts if text is not None}
        missing = wanted - self._known.keys()
        if not missing:
            return {text: self._known[text] for text in wanted}
        found = await _label_ids(connection, missing)
        # Read before this transaction wrote any label: committed, so safe to remember.
        self._known.update(found)
        added = missing - found.keys()
        if added:
            statement = _upsert(connection.dialect.name, labels).on_conflict_do_nothing(
                index_elements=["label"]
            )
            await connection.execute(statement, [{"label": text} for text in sorted(added)])
            # Not remembered: this transaction may yet roll back.
            found |= await _label_ids(connection, added)
        return {text: self._known.get(text) or found[text] for text in wanted}


async def _label_ids(connection: AsyncConnection, texts: set[str]) -> dict[str, int]:
    rows = await connection.execute(
        select(labels.c.label, labels.c.id).where(labels.c.label.in_(sorted(texts)))
    )
    return {label: label_id for label, label_id in rows}


def labelled_texts(call: HookCallFacts, screens: Sequence[ScoredScreen]) -> list[str | None]:
    """The texts a call's patient day refers to by label."""
    return [call.user_id, call.workflow_point, call.fhir_server, *(screen.value for screen in screens)]


def patient_day_values(
    call: HookCallFacts,
    call_id: int,
    screens: Sequence[ScoredScreen],
    cards: Sequence[IssuedCard],
    ids: Mapping[str, int],
) -> dict[str, Any]:
    """The call's contribution to its patient day (texts as label ids), as ``patient_day_upsert`` binds it."""
    identifying = any(identifies(VOCABULARY, card.pathway_action) for card in cards)

    def label(text: str | None) -> int | None:
        return ids[text] if identifying and text is not None else None

    values: dict[str, Any] = {
        "received_at": call.received_at,
        "clinic": clinic_key(call.clinic),
        "day": utc_day(call.received_at),
        "patient_id": call.patient_id,
        "identified_at": call.received_at if identifying else None,
        "identified_call": call_id if identifying else None,
        "clinician_label": label(call.user_id),
        "workflow_point_label": label(call.workflow_point),
        "fhir_server_label": label(call.fhir_server),
        "pended": any(c.referral_suggested for c in cards),
        "signed": False,
        "signed_high": False,
    }
    for fact in SCREENS:
        found = [screen for screen in screens if screen.fact == fact]
        newest = max(found, key=lambda screen: screen.assessment_id, default=None)
        freshest = max(found, key=lambda screen: screen.authored, default=None)
        values |= {
            f"{fact}_label": ids[newest.value] if newest else None,
            f"{fact}_at": call.received_at if newest else None,
            f"{fact}_assessment": newest.assessment_id if newest else None,
            f"{fact}_authored": newest.authored if newest else None,
            f"{fact}_freshest": freshest.authored if freshest else None,
        }
    return values


def _replace_when(
    condition: ColumnElement[bool], columns: Iterable[str], excluded: Any
) -> dict[str, ColumnElement[Any]]:
    return {name: case((condition, excluded[name]), else_=days.c[name]) for name in columns}


def _least(new: ColumnElement[int], old: ColumnElement[int]) -> ColumnElement[int]:
    """The smaller of two nullable values, None only when both are (SQLite's min() would give None)."""
    return case((old.is_(None), new), (new.is_(None), old), (new < old, new), else_=old)


def _patient_day_upsert(dialect: str) -> Insert:
    ages = {
        name: _age(authored)
        for fact in SCREENS
        for name, authored in ((f"{fact}_age", f"{fact}_authored"), (f"{fact}_least_age", f"{fact}_freshest"))
    }
    values = {column.name: ages.get(column.name, bindparam(column.name)) for column in days.columns}
    statement = _upsert(dialect, days).values(values)
    new = statement.excluded
    earlier = and_(
        new.identified_at.is_not(None),
        or_(
            days.c.identified_at.is_(None),
            tuple_(new.identified_at, new.identified_call)
            < tuple_(days.c.identified_at, days.c.identified_call),
        ),
    )
    identification = ("identified_at", "identified_call", *IDENTIFICATION_LABELS)
    merged = _replace_when(earlier, identification, new)
    for fact in SCREENS:
        at, assessment = f"{fact}_at", f"{fact}_assessment"
        newer = and_(
            new[at].is_not(None),
            or_(
                days.c[at].is_(None),
                tuple_(new[at], new[assessment]) > tuple_(days.c[at], days.c[assessment]),
            ),
        )
        merged |= _replace_when(newer, (f"{fact}_label", at, assessment, f"{fact}_age"), new)
        merged[f"{fact}_least_age"] = _least(new[f"{fact}_least_age"], days.c[f"{fact}_least_age"])
    for flag in ("pended", "signed", "signed_high"):
        merged[flag] = or_(days.c[flag], new[flag])
    result: Insert = statement.on_conflict_do_update(index_elements=_key(days), set_=merged)
    return result


patient_day_upsert = _once_per_dialect(_patient_day_upsert)
"""The upsert of one call's patient day; bind ``patient_day_values``."""


def _adding_upsert(dialect: str, table: Table, counters: Sequence[str]) -> Insert:
    """A (multi-row) upsert that adds each row's ``counters`` to the stored ones."""
    statement = _upsert(dialect, table)
    added = {name: table.c[name] + statement.excluded[name] for name in counters}
    result: Insert = statement.on_conflict_do_update(index_elements=_key(table), set_=added)
    return result


CARD_COUNTERS = ("cards", "with_feedback", "accepted", "risk_decisions", "risk_decisions_matched")
card_day_upsert = _once_per_dialect(lambda dialect: _adding_upsert(dialect, card_days, CARD_COUNTERS))
override_day_upsert = _once_per_dialect(lambda dialect: _adding_upsert(dialect, override_days, ("items",)))


def card_day_key(
    clinic: str | None, user_id: str | None, workflow_point: str | None, moment: datetime
) -> dict[str, Any]:
    return {
        "clinic": clinic_key(clinic),
        "day": utc_day(moment),
        "clinician": NO_CLINICIAN if user_id is None else user_id,
        "workflow_point": CLINICIAN_WORKFLOW if workflow_point is None else workflow_point,
    }


async def summarise_call(
    connection: AsyncConnection,
    labels: ReportLabels,
    call: HookCallFacts,
    call_id: int,
    screens: Sequence[ScoredScreen],
    cards: Sequence[IssuedCard],
    had_assessments: bool,
) -> None:
    """The call's patient day and card day, updated (nothing for a call with neither cards nor
    assessments: it counts for no measure)."""
    if not cards and not had_assessments:
        return
    ids = await labels.ids(connection, labelled_texts(call, screens))
    await connection.execute(
        patient_day_upsert(connection), patient_day_values(call, call_id, screens, cards, ids)
    )
    if cards:
        key = card_day_key(call.clinic, call.user_id, call.workflow_point, call.received_at)
        counts = dict.fromkeys(CARD_COUNTERS, 0) | {"cards": len(cards)}
        await connection.execute(card_day_upsert(connection), key | counts)


@dataclass(frozen=True)
class CardFacts:
    """What the summary needs of a stored card and its call, with its verdicts before this transaction."""

    card_uuid: UUID
    clinic: str | None
    patient_id: str
    user_id: str | None
    workflow_point: str | None
    received_at: datetime
    pathway_action: str
    risk_group: str | None
    referral_suggested: bool
    had_feedback: bool
    had_accepted: bool

    @property
    def patient_day(self) -> dict[str, Any]:
        return {
            "clinic": clinic_key(self.clinic),
            "day": utc_day(self.received_at),
            "patient_id": self.patient_id,
        }

    @property
    def card_day(self) -> dict[str, Any]:
        return card_day_key(self.clinic, self.user_id, self.workflow_point, self.received_at)

    @property
    def high_risk(self) -> bool:
        return self.risk_group == VOCABULARY.high_risk_group


@dataclass(frozen=True)
class NewFeedback:
    card_uuid: UUID
    accepted: bool
    reason_system: str | None
    reason_code: str | None


_MARK_SIGNED = (
    update(days)
    .where(*(days.c[name] == bindparam("k_" + name) for name in _key(days)))
    .values(signed=True, signed_high=or_(days.c.signed_high, bindparam("high", type_=Boolean())))
)


async def mark_signed(connection: AsyncConnection, cards: Iterable[CardFacts]) -> None:
    """Each referral card's patient day: a referral was signed (on a high-risk card: that one too)."""
    marks: dict[tuple[Any, ...], bool] = {}
    for card in cards:
        if card.referral_suggested:
            key = tuple(card.patient_day.values())
            marks[key] = marks.get(key, False) or card.high_risk
    rows = [
        {"k_" + name: value for name, value in zip(_key(days), key, strict=True)} | {"high": high}
        for key, high in sorted(marks.items())
    ]
    if rows:
        await connection.execute(_MARK_SIGNED, rows)


async def summarise_feedback(
    connection: AsyncConnection, cards: Mapping[UUID, CardFacts], stored: Sequence[NewFeedback]
) -> None:
    """The new feedback items ``stored`` (those not already held), added to the summary."""
    verdicts: dict[UUID, tuple[bool, bool]] = {}
    overrides: dict[tuple[Any, ...], int] = {}
    for item in stored:
        card = cards[item.card_uuid]
        _, accepted = verdicts.get(item.card_uuid, (True, False))
        verdicts[item.card_uuid] = (True, accepted or item.accepted)
        if not item.accepted:
            reason = (item.reason_system or NO_REASON, item.reason_code or NO_REASON)
            key = (*card.card_day.values(), *reason)
            overrides[key] = overrides.get(key, 0) + 1
    counts: dict[tuple[Any, ...], dict[str, int]] = {}
    newly_accepted = []
    for card_uuid, (_, accepted) in verdicts.items():
        card = cards[card_uuid]
        decided = int(not card.had_feedback)
        matched = int(accepted and not card.had_accepted)
        if matched:
            newly_accepted.append(card)
        risk = card.pathway_action in VOCABULARY.risk_actions
        row = counts.setdefault(tuple(card.card_day.values()), dict.fromkeys(CARD_COUNTERS, 0))
        row["with_feedback"] += decided
        row["accepted"] += matched
        row["risk_decisions"] += decided * risk
        row["risk_decisions_matched"] += matched * risk
    # Rows are locked in one order by every writer (patient days, then card days, then override days, each
    # by key), so that a hook call and feedback for one patient at once never deadlock.
    await mark_signed(connection, newly_accepted)
    changed = [
        dict(zip(_key(card_days), key, strict=True)) | row
        for key, row in sorted(counts.items())
        if any(row.values())
    ]
    if changed:
        await connection.execute(card_day_upsert(connection), changed)
    if overrides:
        rows = [
            dict(zip(_key(override_days), key, strict=True)) | {"items": items}
            for key, items in sorted(overrides.items())
        ]
        await connection.execute(override_day_upsert(connection), rows)


async def card_facts(
    connection: AsyncConnection, card_uuids: Iterable[UUID], *, lock: bool = False
) -> dict[UUID, CardFacts]:
    """The stored cards among ``card_uuids`` with their calls and verdicts so far; with ``lock``, the
    cards' rows stay locked to the transaction (PostgreSQL), so that concurrent feedback on one card
    is counted one transaction after the other."""
    wanted = sorted(set(card_uuids))
    if not wanted:
        return {}
    cards, calls, feedback = schema.cards, schema.hook_calls, schema.feedback
    decided = exists().where(feedback.c.card_uuid == cards.c.uuid)
    accepted = exists().where(feedback.c.card_uuid == cards.c.uuid, feedback.c.outcome == "accepted")
    query = (
        select(
            cards.c.uuid,
            calls.c.clinic,
            calls.c.patient_id,
            calls.c.user_id,
            calls.c.workflow_point,
            calls.c.received_at,
            cards.c.pathway_action,
            cards.c.risk_group,
            cards.c.referral_suggested,
            decided.label("had_feedback"),
            accepted.label("had_accepted"),
        )
        .select_from(cards.join(calls, calls.c.id == cards.c.hook_call_id))
        .where(cards.c.uuid.in_(wanted))
        .order_by(cards.c.uuid)
    )
    if lock:
        query = query.with_for_update(of=cards)
    rows = await connection.execute(query)
    return {row.uuid: CardFacts(*row) for row in rows}


def scored_screens(rows: Sequence[dict[str, Any]], ids: Sequence[int]) -> list[ScoredScreen]:
    """The stored assessments the report summary keeps: scored, authored, with a risk group or a
    pain-duration band."""
    screens = []
    for row, assessment_id in zip(rows, ids, strict=True):
        if row["kind"] != "scored" or row["authored"] is None:
            continue
        for fact, column in SCREEN_COLUMNS.items():
            if screen_value(fact, row[column]):
                screens.append(ScoredScreen(fact, assessment_id, row[column], row["authored"]))
    return screens
