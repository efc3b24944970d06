"""Latency statistics from a histogram of (latency, count) pairs, as wrk reports them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Histogram = list[tuple[float, int]]
"""Distinct latencies in seconds, each with how many requests took it."""


def percentile(histogram: Iterable[tuple[float, int]], fraction: float) -> float:
    """The nearest-rank percentile: the smallest latency at or below which ``fraction`` of requests fall."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    ordered = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in ordered)
    if total == 0:
        raise ValueError("no latencies recorded")
    rank = math.ceil(fraction * total)
    seen = 0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    return ordered[-1][0]


def count_over(histogram: Iterable[tuple[float, int]], limit: float) -> int:
    """How many requests took longer than ``limit``."""
    return sum(count for value, count in histogram if value > limit)


@dataclass(frozen=True)
class Latencies:
    p50: float
    p95: float
    p99: float
    worst: float

    @classmethod
    def of(cls, histogram: Histogram) -> Latencies:
        return cls(
            p50=percentile(histogram, 0.50),
            p95=percentile(histogram, 0.95),
            p99=percentile(histogram, 0.99),
            worst=max(value for value, count in histogram if count > 0),
        )
