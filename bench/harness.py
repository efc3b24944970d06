"""Runs every scenario of issue 11 against real server processes on loopback and prints the table, the
ratios to the peers and the budgets. See ``bench/run --help``."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench import calls, services
from bench.budgets import EHR_PATIENCE_SECONDS, Check, at_least, at_most
from bench.hung_fhir import hung_fhir_server
from bench.load import HttpRequest, LoadResult, drive
from bench.processes import RunningServer
from bench.profile import profile_top_frames
from bench.seeding import collect_cards, seed_patients
from bench.stats import Latencies, count_over
from bench.stores import POSTGRES_URL, fresh_postgres_schema
from stratcare.settings import Settings

sys.path.insert(0, str(services.ROOT / "tests"))
from support.fhir_server import running_fhir_server  # noqa: E402


@dataclass(frozen=True)
class Plan:
    calls: int
    warmup: int
    hung_calls: int
    concurrencies: tuple[int, ...]
    time_limit_seconds: float
    profile_seconds: int


QUICK = Plan(calls=150, warmup=20, hung_calls=16, concurrencies=(1, 8, 32), time_limit_seconds=10, profile_seconds=8)
FULL = Plan(calls=2000, warmup=200, hung_calls=64, concurrencies=(1, 8, 32), time_limit_seconds=60, profile_seconds=20)
SEEDED_PATIENTS = 40
"""Patients on the local FHIR server, cycled through: its in-memory search slows as it fills."""


@dataclass(frozen=True)
class Row:
    scenario: str
    concurrency: int
    result: LoadResult
    cpu_per_call: float
    late: int | None = None

    @property
    def latencies(self) -> Latencies:
        return Latencies.of(self.result.histogram)

    def cells(self) -> list[str]:
        lat = self.latencies
        late = "" if self.late is None else str(self.late)
        return [
            self.scenario,
            str(self.concurrency),
            str(self.result.completed),
            f"{self.result.throughput:.0f}",
            f"{lat.p50 * 1000:.1f}",
            f"{lat.p95 * 1000:.1f}",
            f"{lat.p99 * 1000:.1f}",
            f"{self.cpu_per_call * 1000:.2f}",
            str(self.result.status_errors),
            str(self.result.dropped),
            late,
        ]


HEADER = ["scenario", "in flight", "calls", "calls/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/call"]
HEADER += ["HTTP errors", "dropped", "late"]
RequestMaker = Callable[[int], list[HttpRequest]]


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def settle(server: RunningServer, quiet_seconds: float = 0.3, limit_seconds: float = 10.0) -> None:
    """Wait until the server's CPU time stops growing (requests abandoned by the last run are done)."""
    deadline = time.monotonic() + limit_seconds
    last = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = server.cpu_seconds()
        if now - last < 0.01:
            return
        last = now


def measure(
    server: RunningServer,
    scenario: str,
    make: RequestMaker,
    plan: Plan,
    concurrency: int,
    calls_count: int | None = None,
    deadline: float | None = None,
) -> Row:
    count = calls_count or plan.calls
    timeout = max(10.0, (deadline or 0) * 3)
    if plan.warmup:
        warmup = min(plan.warmup, count)
        drive(server.port, make(warmup + concurrency), warmup, concurrency, plan.time_limit_seconds / 4, timeout)
        settle(server)
    requests = make(count + concurrency)
    before = server.cpu_seconds()
    result = drive(server.port, requests, count, concurrency, plan.time_limit_seconds, timeout)
    settle(server)
    spent = server.cpu_seconds() - before
    # wrk stops once `count` answers arrived; the other connections' calls in flight were still served.
    served = result.completed + concurrency - 1
    late = count_over(result.histogram, deadline) if deadline is not None else None
    row = Row(scenario, concurrency, result, spent / served if served else 0.0, late)
    say("| " + " | ".join(row.cells()) + " |")
    return row


def print_header() -> None:
    say("| " + " | ".join(HEADER) + " |")
    say("|" + "---|" * len(HEADER))


def configured_deadline() -> float:
    """The per-call deadline the service is configured with (today only a per-request FHIR timeout)."""
    settings = Settings()
    for name in ("hook_deadline_seconds", "call_deadline_seconds", "deadline_seconds"):
        value = getattr(settings, name, None)
        if isinstance(value, int | float):
            return float(value)
    return settings.fhir_timeout_seconds


@contextmanager
def postgres_stratcare(name: str, issuers: str, workers: int, logs: Path) -> Iterator[RunningServer]:
    with fresh_postgres_schema(POSTGRES_URL) as url, services.stratcare(name, url, issuers, workers, logs) as server:
        yield server


def run(plan: Plan, logs: Path, results: Path | None) -> list[Check]:
    rows: dict[tuple[str, int], Row] = {}
    client = calls.CdsClient(logs)
    hook, feedback = calls.HOOK_PATH, calls.FEEDBACK_PATH
    deadline = configured_deadline()
    with ExitStack() as stack:
        fhir = stack.enter_context(running_fhir_server())
        hung = stack.enter_context(hung_fhir_server())
        issuers = client.issuers_setting([fhir.base_url, hung])
        print_header()

        def record(row: Row) -> None:
            rows[(row.scenario, row.concurrency)] = row

        def full_hook(port: int) -> RequestMaker:
            return lambda n: [calls.signed(client, port, hook, calls.hook_with_prefetch(fhir.base_url)) for _ in range(n)]

        with services.ceiling(logs) as ceiling:
            body = calls.hook_with_prefetch(fhir.base_url)
            for c in plan.concurrencies:
                make = lambda n: [calls.signed(None, ceiling.port, "/cds-services/ceiling", body) for _ in range(n)]  # noqa: E731
                record(measure(ceiling, "ceiling: bare FastAPI fixed card", make, plan, c))

        hc_python, hc_reason = services.healthchain_python()
        if hc_python is not None:
            with services.healthchain(hc_python, logs) as peer:
                body = calls.patient_view_request()
                for c in plan.concurrencies:
                    make = lambda n: [calls.signed(None, peer.port, "/cds/cds-services/trivial-card", body) for _ in range(n)]  # noqa: E731
                    record(measure(peer, "HealthChain trivial patient-view card", make, plan, c))

        with tempfile.TemporaryDirectory(prefix="stratcare-bench-sqlite-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            with services.stratcare("stratcare-sqlite", url, issuers, 1, logs) as server:
                for c in plan.concurrencies:
                    record(measure(server, "a. full hook, SQLite", full_hook(server.port), plan, c))

        with postgres_stratcare("stratcare-postgres", issuers, 1, logs) as server:
            for c in plan.concurrencies:
                record(measure(server, "a. full hook, PostgreSQL", full_hook(server.port), plan, c))
            if plan.profile_seconds:
                frames = profile_top_frames(server, full_hook(server.port), plan.profile_seconds, logs)
                (logs / "profile-top10.txt").write_text("\n".join(frames) + "\n")
            queue = itertools.cycle(seed_patients(fhir.base_url, SEEDED_PATIENTS))
            fetched: RequestMaker = lambda n: [  # noqa: E731
                calls.signed(client, server.port, hook, calls.hook_without_prefetch(fhir.base_url, next(queue)))
                for _ in range(n)
            ]
            for c in plan.concurrencies:
                record(measure(server, "b. no prefetch, local FHIR server", fetched, plan, c))
            hung_calls: RequestMaker = lambda n: [  # noqa: E731
                calls.signed(client, server.port, hook, calls.hook_without_prefetch(hung, "hung-patient"))
                for _ in range(n)
            ]
            plan_hung = replace(plan, calls=plan.hung_calls, warmup=0, time_limit_seconds=plan.time_limit_seconds + deadline * 10)
            record(measure(server, "c. FHIR server never answers", hung_calls, plan_hung, 8, deadline=deadline))
            cards = collect_cards(client, server.base_url, fhir.base_url, 50)
            for c in plan.concurrencies:
                posts = lambda n: [  # noqa: E731
                    calls.signed(client, server.port, feedback, calls.feedback_body(*cards[i % len(cards)], i))
                    for i in range(n)
                ]
                record(measure(server, "d. feedback", posts, plan, c))

        top = max(plan.concurrencies)
        scale = os.cpu_count() or 2
        with postgres_stratcare("stratcare-postgres-workers", issuers, scale, logs) as server:
            record(measure(server, f"e. full hook, PostgreSQL, {scale} workers", full_hook(server.port), plan, top))

    say()
    ratios(rows, plan, hc_reason)
    checks = budgets(rows, top, scale, deadline, hc_reason)
    say()
    for check in checks:
        say(check.line())
    if results is not None:
        write_table(results, rows, checks)
    return checks


def ratio_line(label: str, numerator: float, denominator: float) -> None:
    say(f"{label}: {numerator / denominator:.3f}x" if denominator else f"{label}: n/a")


def ratios(rows: dict[tuple[str, int], Row], plan: Plan, hc_reason: str) -> None:
    peers = [("ceiling", "ceiling: bare FastAPI fixed card"), ("HealthChain", "HealthChain trivial patient-view card")]
    for c in plan.concurrencies:
        ours = rows.get(("a. full hook, PostgreSQL", c))
        if ours is None:
            continue
        for label, name in peers:
            peer = rows.get((name, c))
            if peer is None:
                say(f"full hook (PostgreSQL) / {label} at {c} in flight: unavailable ({hc_reason})")
                continue
            ratio_line(f"throughput, full hook (PostgreSQL) / {label}, {c} in flight", ours.result.throughput, peer.result.throughput)
            ratio_line(f"p99, full hook (PostgreSQL) / {label}, {c} in flight", ours.latencies.p99, peer.latencies.p99)
            ratio_line(f"CPU per call, full hook (PostgreSQL) / {label}, {c} in flight", ours.cpu_per_call, peer.cpu_per_call)


def budgets(rows: dict[tuple[str, int], Row], top: int, scale: int, deadline: float, hc_reason: str) -> list[Check]:
    postgres = rows[("a. full hook, PostgreSQL", 8)]
    peer = rows.get(("HealthChain trivial patient-view card", 8))
    why = f"HealthChain peer unavailable: {hc_reason}"
    checks = [
        at_least(
            "3a throughput on PostgreSQL at 8 in flight >= 0.5x HealthChain's trivial card",
            postgres.result.throughput / peer.result.throughput if peer else None,
            0.5,
            why=why,
        ),
        at_most(
            "3a p99 on PostgreSQL at 8 in flight within 2x HealthChain's",
            postgres.latencies.p99 / peer.latencies.p99 if peer else None,
            2.0,
            "x",
            why=why,
        ),
        at_most("3a server CPU per full hook (PostgreSQL, 8 in flight) < 1 ms", postgres.cpu_per_call * 1000, 1.0, " ms"),
        at_most("3b p99 with prefetch fetched from the FHIR server (8 in flight) < 50 ms", rows[("b. no prefetch, local FHIR server", 8)].latencies.p99 * 1000, 50.0, " ms"),
    ]
    hung = rows[("c. FHIR server never answers", 8)]
    within = hung.result.completed - (hung.late or 0)
    total = hung.result.completed + hung.result.dropped
    checks.append(Check(f"3c every call answered within the {deadline:g} s deadline", within == total and total > 0, f"{within}/{total} within ({hung.late} late, {hung.result.dropped} dropped)"))
    checks.append(at_most(f"3c deadline well inside what EHRs wait (<= {EHR_PATIENCE_SECONDS:g} s)", deadline, EHR_PATIENCE_SECONDS, " s"))
    sqlite = rows[("a. full hook, SQLite", top)]
    checks.append(Check(f"3c SQLite at {top} in flight: no dropped connections", sqlite.result.dropped == 0, f"{sqlite.result.dropped} dropped"))
    checks.append(at_most(f"3c SQLite at {top} in flight: p99 < 250 ms", sqlite.latencies.p99 * 1000, 250.0, " ms"))
    one = rows[("a. full hook, PostgreSQL", top)]
    many = rows[(f"e. full hook, PostgreSQL, {scale} workers", top)]
    checks.append(at_least(f"3e {scale} workers / 1 at {top} in flight >= 0.85x linear per added core", many.result.throughput / one.result.throughput, 1 + 0.85 * (scale - 1)))
    return checks


def write_table(path: Path, rows: dict[tuple[str, int], Row], checks: list[Check]) -> None:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows.values()]
    lines += ["", *[f"    {check.line()}" for check in checks]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short pass (a few minutes) instead of the full run")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--calls", type=int, help="calls per cell (overrides the mode's count)")
    parser.add_argument("--results", type=Path, help="also write the table and budgets to this file")
    parser.add_argument("--logs", type=Path, help="keep server logs and the profile here (default: a temp folder)")
    options = parser.parse_args()
    plan = QUICK if options.quick else FULL
    if options.calls:
        plan = replace(plan, calls=options.calls, warmup=min(plan.warmup, options.calls))
    if options.no_profile:
        plan = replace(plan, profile_seconds=0)
    logs = options.logs or Path(tempfile.mkdtemp(prefix="stratcare-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    say(f"stratcare benchmark ({'quick' if options.quick else 'full'}): {plan.calls} calls per cell, logs in {logs}")
    started = time.monotonic()
    run(plan, logs, options.results)
    say(f"done in {time.monotonic() - started:.0f} s")
