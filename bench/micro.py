"""The timing loop the micro-benchmarks share: process CPU time per call, best of five rounds."""

from __future__ import annotations

import time
from collections.abc import Callable

ROUNDS = 5


def per_call_ms(work: Callable[[], object], calls: int) -> float:
    """CPU milliseconds per call of ``work``: the best of ``ROUNDS`` rounds of ``calls`` calls."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(calls):
            work()
        best = min(best, (time.process_time() - started) / calls)
    return best * 1000
