"""How long the audit-and-feedback report takes on 1,000,000 hook events, on PostgreSQL.

    .venv/bin/python bench/report_scale.py                       # 1,000,000 calls, 50 clinics, 500 clinicians
    .venv/bin/python bench/report_scale.py --calls 200000 --keep # smaller; keep the schema for a second look

Seeds a fresh schema with COPY: hook calls spread over 90 days across 200,000 patients, each patient at one
clinic; per call a pathway card (3% red flags), a scored STarT Back screen on about half, an NIH screen
with it, referral cards for medium and high risk, and feedback on about 40% of cards. Then times the
report the page shows (by clinic, by workflow point, by week: measures, cards, override reasons) and the
missed-patient list of one clinic, and prints whether the whole stays under the target. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from stratcare.reports.measures import Granularity
from stratcare.reports.query import ReportQuery
from stratcare.store import SqlLedgers
from stratcare.store.reports import SqlReports

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = 5.0
START = datetime(2025, 1, 6, tzinfo=UTC)
DAYS = 90
WORKFLOW_POINTS = ("pre-visit", "rooming", None)
OVERRIDE_CODES = ("patient-declined", "already-referred", "clinical-judgement")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_schema(url: str, keep: bool) -> Iterator[str]:
    schema = f"bench_reports_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo(url), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield (
                make_url(url)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
        finally:
            if keep:
                say(f"kept schema {schema}")
            else:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def rows(
    calls: int, clinics: int, clinicians: int, rng: random.Random
) -> dict[str, list[tuple[object, ...]]]:
    patients = max(1, calls // 5)
    per_clinic = max(1, clinicians // clinics)
    tables: dict[str, list[tuple[object, ...]]] = {
        "hook_calls": [],
        "assessments": [],
        "cards": [],
        "feedback": [],
    }
    for call_id in range(1, calls + 1):
        patient = rng.randrange(patients)
        clinic = patient % clinics
        clinician = clinic * per_clinic + rng.randrange(per_clinic)
        received = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        tables["hook_calls"].append(
            (
                call_id,
                uuid.uuid4(),
                "start-back-encounter-start",
                "encounter-start",
                f"pat-{patient}",
                f"enc-{call_id}",
                f"Practitioner/c{clinician}",
                "https://ehr.example.org/fhir",
                received,
                "cards",
                f"Organization/clinic-{clinic:02d}",
                rng.choice(WORKFLOW_POINTS),
            )
        )
        _call_content(tables, call_id, received, rng)
    return tables


def _call_content(
    tables: dict[str, list[tuple[object, ...]]], call_id: int, received: datetime, rng: random.Random
) -> None:
    if rng.random() < 0.03:
        tables["cards"].append(_card(call_id, "red-flag", None, False))
        return
    if rng.random() < 0.5:
        tables["cards"].append(_card(call_id, "screening-due", None, False))
        return
    risk = rng.choices(("low", "medium", "high"), weights=(40, 40, 20))[0]
    authored = received - timedelta(hours=rng.randrange(24 * 40))
    tables["assessments"].append(
        (call_id, "scored", "start-back", "start-back", f"qr-{call_id}", authored, risk, f"{risk}-risk")
    )
    chronicity = "acute" if rng.random() < 0.6 else "chronic"
    tables["assessments"].append(
        (call_id, "scored", "nih", "nih", f"qn-{call_id}", authored, None, chronicity)
    )
    card = _card(call_id, f"{risk}-risk", risk, risk != "low")
    tables["cards"].append(card)
    if rng.random() < 0.4:
        accepted = rng.random() < 0.7
        tables["feedback"].append(
            (
                uuid.uuid4().hex,
                "start-back-encounter-start",
                card[0],
                "accepted" if accepted else "overridden",
                received,
                "[]",
                None if accepted else "http://example.org/override",
                None if accepted else rng.choice(OVERRIDE_CODES),
                received,
            )
        )


def _card(call_id: int, action: str, risk: str | None, referral: bool) -> tuple[object, ...]:
    return (uuid.uuid4(), call_id, "start-back-encounter-start", action, "info", action, risk, referral)


COLUMNS = {
    "hook_calls": "id, hook_instance, service_id, hook, patient_id, encounter_id, user_id, fhir_server, "
    "received_at, outcome, clinic, workflow_point",
    "assessments": "hook_call_id, kind, instrument, questionnaire, response_id, authored, risk_group, band",
    "cards": "uuid, hook_call_id, service_id, pathway_action, indicator, summary, risk_group, "
    "referral_suggested",
    "feedback": "dedupe_key, service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, "
    "override_reason_system, override_reason_code, received_at",
}


def copy_in(url: str, tables: dict[str, list[tuple[object, ...]]]) -> None:
    with psycopg.connect(conninfo(make_url(url).render_as_string(hide_password=False))) as connection:
        for table, data in tables.items():
            with connection.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            say(f"  {table}: {len(data):,} rows")
        connection.execute("ANALYZE")


async def timed_report(url: str, clinic: str) -> tuple[float, float]:
    ledgers = await SqlLedgers.open(url)
    try:
        query = ReportQuery(start=START, end=START + timedelta(days=DAYS), granularity=Granularity.WEEK)
        async with ledgers.engine.connect() as connection:
            reports = SqlReports(connection)
            began = time.perf_counter()

            def progress(stage: str) -> None:
                say(f"  [{time.perf_counter() - began:6.2f} s] {stage}")

            page = await reports.page(query, progress)
            page_seconds = time.perf_counter() - began
            began = time.perf_counter()
            missed = await reports.missed_patients(
                ReportQuery(start=START, end=START + timedelta(days=DAYS), clinics=frozenset({clinic}))
            )
            missed_seconds = time.perf_counter() - began
        overall = page.by_clinic.overall
        if overall is not None:
            counts = f"identified {overall.identified:,}, stratified {overall.stratified:,}"
            say(f"  {counts}; missed at {clinic}: {len(missed):,}")
        return page_seconds, missed_seconds
    finally:
        await ledgers.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL (a fresh schema is used)")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--clinicians", type=int, default=500)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    args = parser.parse_args()
    with fresh_schema(args.url, args.keep) as url:
        asyncio.run(_create(url))
        began = time.perf_counter()
        say(f"generating {args.calls:,} hook calls")
        tables = rows(args.calls, args.clinics, args.clinicians, random.Random(args.seed))
        say("copying")
        copy_in(url, tables)
        say(f"seeded in {time.perf_counter() - began:.1f} s")
        page_seconds, missed_seconds = asyncio.run(timed_report(url, "Organization/clinic-00"))
    total = page_seconds + missed_seconds
    say(f"report page (3 groupings): {page_seconds:.2f} s; missed-patient list: {missed_seconds:.2f} s")
    verdict = "holds" if total < TARGET_SECONDS else "does NOT hold"
    say(f"target {TARGET_SECONDS:.0f} s {verdict}: {total:.2f} s in all")
    return 0


async def _create(url: str) -> None:
    ledgers = await SqlLedgers.open(url)
    await ledgers.close()


if __name__ == "__main__":
    sys.exit(main())
