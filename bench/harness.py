"""Runs every scenario of issue 11 against real server processes on loopback and prints the table, the
ratios to the peers and the budgets. See ``bench/run --help``."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench import calls, services
from bench.budgets import Check
from bench.hung_fhir import hung_fhir_server
from bench.load import HttpRequest, drive
from bench.processes import RunningServer
from bench.profile import profile_top_frames
from bench.report import (
    CEILING,
    FEEDBACK,
    FETCHED,
    HEALTHCHAIN,
    HUNG,
    POSTGRES,
    SQLITE,
    budgets,
    ratios,
    say,
    scale_out_scenario,
    write_table,
)
from bench.rows import HEADER, Row, Rows
from bench.seeding import collect_cards, seed_patients
from bench.stats import count_over
from bench.stores import POSTGRES_URL, fresh_postgres_schema
from stratcare.settings import Settings

sys.path.insert(0, str(services.ROOT / "tests"))
from support.fhir_server import running_fhir_server


@dataclass(frozen=True)
class Plan:
    calls: int
    warmup: int
    hung_calls: int
    concurrencies: tuple[int, ...]
    time_limit_seconds: float
    profile_seconds: int


QUICK = Plan(
    calls=150, warmup=20, hung_calls=16, concurrencies=(1, 8, 32), time_limit_seconds=10, profile_seconds=8
)
FULL = Plan(
    calls=2000, warmup=200, hung_calls=64, concurrencies=(1, 8, 32), time_limit_seconds=60, profile_seconds=20
)
HUNG_CONCURRENCY = 8
FEEDBACK_CARDS = 50
SEEDED_PATIENTS = 40
"""Patients on the local FHIR server, cycled through: its in-memory search slows as it fills."""


RequestMaker = Callable[[int], list[HttpRequest]]


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
    per_worker: bool = False,
) -> Row:
    count = calls_count or plan.calls
    timeout = max(10.0, (deadline or 0) * 3)
    if plan.warmup:
        warmup = min(plan.warmup, count)
        drive(
            server.port, make(warmup + concurrency), warmup, concurrency, plan.time_limit_seconds / 4, timeout
        )
        settle(server)
    requests = make(count + concurrency)
    before = server.cpu_seconds()
    log_start = server.log_path.stat().st_size
    result = drive(server.port, requests, count, concurrency, plan.time_limit_seconds, timeout)
    settle(server)
    spent = server.cpu_seconds() - before
    spread = answered_per_worker(server.log_path, log_start) if per_worker else ()
    # wrk stops once `count` answers arrived; the other connections' calls in flight were still served.
    served = result.completed + concurrency - 1
    late = count_over(result.histogram, deadline) if deadline is not None else None
    row = Row(scenario, concurrency, result, spent / served if served else 0.0, late, spread)
    say("| " + " | ".join(row.cells()) + " |")
    return row


def answered_per_worker(log: Path, start: int) -> tuple[int, ...]:
    """Hook calls answered per worker process, from the service's JSON log lines after byte ``start``."""
    with log.open("rb") as lines:
        lines.seek(start)
        tail = lines.read().decode("utf-8", errors="replace")
    counts: Counter[object] = Counter()
    for line in tail.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == "hook answered":
            counts[entry.get("pid")] += 1
    return tuple(sorted(counts.values(), reverse=True))


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
    with (
        fresh_postgres_schema(POSTGRES_URL) as url,
        services.stratcare(name, url, issuers, workers, logs) as server,
    ):
        yield server


def batch(one: Callable[[int], HttpRequest]) -> RequestMaker:
    """A maker of ``n`` distinct requests from a maker of the ``i``-th (built, and signed, when called)."""
    return lambda n: [one(index) for index in range(n)]


@dataclass
class Run:
    plan: Plan
    logs: Path
    client: calls.CdsClient
    fhir_base_url: str
    hung_base_url: str
    deadline: float
    rows: Rows

    @property
    def issuers(self) -> str:
        return self.client.issuers_setting([self.fhir_base_url, self.hung_base_url])

    def record(self, row: Row) -> None:
        self.rows[(row.scenario, row.concurrency)] = row

    def full_hook(self, port: int) -> RequestMaker:
        body = calls.hook_with_prefetch
        return batch(lambda _: calls.signed(self.client, port, calls.HOOK_PATH, body(self.fhir_base_url)))

    def peers(self) -> str:
        """Measure the ceiling and HealthChain; return why HealthChain is unavailable, if it is."""
        with services.ceiling(self.logs) as ceiling:
            body = calls.hook_with_prefetch(self.fhir_base_url)
            make = batch(lambda _: calls.signed(None, ceiling.port, "/cds-services/ceiling", body))
            for c in self.plan.concurrencies:
                self.record(measure(ceiling, CEILING, make, self.plan, c))
        python, reason = services.healthchain_python()
        if python is None:
            return reason
        with services.healthchain(python, self.logs) as peer:
            body = calls.patient_view_request()
            make = batch(lambda _: calls.signed(None, peer.port, services.HEALTHCHAIN_PATH, body))
            for c in self.plan.concurrencies:
                self.record(measure(peer, HEALTHCHAIN, make, self.plan, c))
        return ""

    def sqlite(self) -> None:
        with tempfile.TemporaryDirectory(prefix="stratcare-bench-sqlite-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            with services.stratcare("stratcare-sqlite", url, self.issuers, 1, self.logs) as server:
                for c in self.plan.concurrencies:
                    self.record(measure(server, SQLITE, self.full_hook(server.port), self.plan, c))

    def postgres(self) -> None:
        with postgres_stratcare("stratcare-postgres", self.issuers, 1, self.logs) as server:
            for c in self.plan.concurrencies:
                self.record(measure(server, POSTGRES, self.full_hook(server.port), self.plan, c))
            if self.plan.profile_seconds:
                frames = profile_top_frames(
                    server, self.full_hook(server.port), self.plan.profile_seconds, self.logs
                )
                (self.logs / "profile-top10.txt").write_text("\n".join(frames) + "\n")
            self.fetched(server)
            self.hung(server)
            self.feedback(server)

    def fetched(self, server: RunningServer) -> None:
        patients = itertools.cycle(seed_patients(self.fhir_base_url, SEEDED_PATIENTS))
        body = calls.hook_without_prefetch
        make = batch(
            lambda _: calls.signed(
                self.client, server.port, calls.HOOK_PATH, body(self.fhir_base_url, next(patients))
            )
        )
        for c in self.plan.concurrencies:
            self.record(measure(server, FETCHED, make, self.plan, c))

    def hung(self, server: RunningServer) -> None:
        body = calls.hook_without_prefetch
        make = batch(
            lambda _: calls.signed(
                self.client, server.port, calls.HOOK_PATH, body(self.hung_base_url, "hung")
            )
        )
        limit = self.plan.time_limit_seconds + self.deadline * 10
        plan = replace(self.plan, calls=self.plan.hung_calls, warmup=0, time_limit_seconds=limit)
        self.record(measure(server, HUNG, make, plan, HUNG_CONCURRENCY, deadline=self.deadline))

    def feedback(self, server: RunningServer) -> None:
        cards = collect_cards(self.client, server.base_url, self.fhir_base_url, FEEDBACK_CARDS)
        make = batch(
            lambda i: calls.signed(
                self.client, server.port, calls.FEEDBACK_PATH, calls.feedback_body(*cards[i % len(cards)], i)
            )
        )
        for c in self.plan.concurrencies:
            self.record(measure(server, FEEDBACK, make, self.plan, c))

    def scale_out(self, workers: int) -> None:
        name = "stratcare-postgres-workers"
        with postgres_stratcare(name, self.issuers, workers, self.logs) as server:
            scenario = scale_out_scenario(workers)
            top = max(self.plan.concurrencies)
            row = measure(server, scenario, self.full_hook(server.port), self.plan, top, per_worker=True)
            say(f"  calls answered per worker process in that run: {list(row.per_worker)}")
            self.record(row)


def run(plan: Plan, logs: Path, results: Path | None) -> list[Check]:
    workers = os.cpu_count() or 2
    with running_fhir_server() as fhir, hung_fhir_server() as hung:
        bench = Run(plan, logs, calls.CdsClient(logs), fhir.base_url, hung, configured_deadline(), {})
        print_header()
        healthchain_missing = bench.peers()
        bench.sqlite()
        bench.postgres()
        bench.scale_out(workers)
    say()
    ratios(bench.rows, plan.concurrencies, healthchain_missing)
    checks = budgets(bench.rows, max(plan.concurrencies), workers, bench.deadline, healthchain_missing)
    say()
    for check in checks:
        say(check.line())
    if results is not None:
        write_table(results, bench.rows, checks)
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a short pass (a few minutes) instead of the full run"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--calls", type=int, help="calls per cell (overrides the mode's count)")
    parser.add_argument("--results", type=Path, help="also write the table and budgets to this file")
    parser.add_argument(
        "--logs", type=Path, help="keep server logs and the profile here (default: a temp folder)"
    )
    options = parser.parse_args()
    plan = QUICK if options.quick else FULL
    if options.calls:
        plan = replace(plan, calls=options.calls, warmup=min(plan.warmup, options.calls))
    if options.no_profile:
        plan = replace(plan, profile_seconds=0)
    logs = options.logs or Path(tempfile.mkdtemp(prefix="stratcare-bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    mode = "quick" if options.quick else "full"
    say(f"stratcare benchmark ({mode}): {plan.calls} calls per cell, logs in {logs}")
    started = time.monotonic()
    run(plan, logs, options.results)
    say(f"done in {time.monotonic() - started:.0f} s")
