"""What the harness prints after the table: each ratio to the peers and each budget of issue 11 item 3."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.budgets import EHR_PATIENCE_SECONDS, Check, at_least, at_most
from bench.rows import HEADER, Rows

CEILING = "ceiling: bare FastAPI fixed card"
HEALTHCHAIN = "HealthChain trivial patient-view card"
SQLITE = "a. full hook, SQLite"
POSTGRES = "a. full hook, PostgreSQL"
FETCHED = "b. no prefetch, local FHIR server"
HUNG = "c. FHIR server never answers"
FEEDBACK = "d. feedback"


def scale_out_scenario(workers: int) -> str:
    return f"e. full hook, PostgreSQL, {workers} workers"


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ratio_line(label: str, numerator: float, denominator: float) -> None:
    say(f"{label}: {numerator / denominator:.3f}x" if denominator else f"{label}: n/a")


def ratios(rows: Rows, concurrencies: tuple[int, ...], hc_reason: str) -> None:
    peers = [
        ("ceiling", CEILING),
        ("HealthChain", HEALTHCHAIN),
    ]
    for c in concurrencies:
        ours = rows.get((POSTGRES, c))
        if ours is None:
            continue
        for label, name in peers:
            peer = rows.get((name, c))
            if peer is None:
                say(f"full hook (PostgreSQL) / {label} at {c} in flight: unavailable ({hc_reason})")
                continue
            ratio_line(
                f"throughput, full hook (PostgreSQL) / {label}, {c} in flight",
                ours.result.throughput,
                peer.result.throughput,
            )
            ratio_line(
                f"p99, full hook (PostgreSQL) / {label}, {c} in flight",
                ours.latencies.p99,
                peer.latencies.p99,
            )
            ratio_line(
                f"CPU per call, full hook (PostgreSQL) / {label}, {c} in flight",
                ours.cpu_per_call,
                peer.cpu_per_call,
            )


def budgets(rows: Rows, top: int, scale: int, deadline: float, hc_reason: str) -> list[Check]:
    postgres = rows[(POSTGRES, 8)]
    peer = rows.get((HEALTHCHAIN, 8))
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
        at_most(
            "3a server CPU per full hook (PostgreSQL, 8 in flight) < 1 ms",
            postgres.cpu_per_call * 1000,
            1.0,
            " ms",
        ),
        at_most(
            "3b p99 with prefetch fetched from the FHIR server (8 in flight) < 50 ms",
            rows[(FETCHED, 8)].latencies.p99 * 1000,
            50.0,
            " ms",
        ),
    ]
    hung = rows[(HUNG, 8)]
    within = hung.result.completed - (hung.late or 0)
    total = hung.result.completed + hung.result.dropped
    checks.append(
        Check(
            f"3c every call answered within the {deadline:g} s deadline",
            within == total and total > 0,
            f"{within}/{total} within ({hung.late} late, {hung.result.dropped} dropped)",
        )
    )
    checks.append(
        at_most(
            f"3c deadline well inside what EHRs wait (<= {EHR_PATIENCE_SECONDS:g} s)",
            deadline,
            EHR_PATIENCE_SECONDS,
            " s",
        )
    )
    sqlite = rows[(SQLITE, top)]
    checks.append(
        Check(
            f"3c SQLite at {top} in flight: no dropped connections",
            sqlite.result.dropped == 0,
            f"{sqlite.result.dropped} dropped",
        )
    )
    checks.append(
        at_most(f"3c SQLite at {top} in flight: p99 < 250 ms", sqlite.latencies.p99 * 1000, 250.0, " ms")
    )
    one = rows[(POSTGRES, top)]
    many = rows[(scale_out_scenario(scale), top)]
    spread = many.per_worker
    checks.append(
        Check(
            f"3e connections spread across the {scale} workers (each answers calls)",
            len(spread) == scale and min(spread) > 0,
            f"calls per worker {list(spread)}",
        )
    )
    checks.append(
        at_least(
            f"3e {scale} workers / 1 at {top} in flight >= 0.85x linear per added core",
            many.result.throughput / one.result.throughput,
            1 + 0.85 * (scale - 1),
        )
    )
    return checks


def write_table(path: Path, rows: Rows, checks: list[Check]) -> None:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows.values()]
    lines += ["", *[f"    {check.line()}" for check in checks]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
