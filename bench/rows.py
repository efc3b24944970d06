"""One measured cell of the table: a scenario at a concurrency."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.load import LoadResult
from bench.stats import Latencies


@dataclass(frozen=True)
class Row:
    scenario: str
    concurrency: int
    result: LoadResult
    cpu_per_call: float
    late: int | None = None
    per_worker: tuple[int, ...] = ()
    """Calls each worker process answered in the timed run (scenario e), most first."""

    @property
    def latencies(self) -> Latencies:
        """The percentiles; NaN (a failed budget, "nan" in the table) when no call was answered."""
        if not any(count for _, count in self.result.histogram):
            return Latencies(math.nan, math.nan, math.nan, math.nan)
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

Rows = dict[tuple[str, int], Row]
