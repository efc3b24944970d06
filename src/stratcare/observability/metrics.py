"""The service's own Prometheus metrics: hook calls by service and outcome, and prefetch fetches.

One registry per app (not the library's global one), so every app built in a process counts only its own
calls. Each web process counts its own calls: with several processes, scrape each (one per pod).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest

from stratcare.errors import StratcareError

# Only the counts: the ``*_created`` timestamp series would double every series for no question we ask.
disable_created_metrics()  # type: ignore[no-untyped-call]

HOOK_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From a few milliseconds (prefetch given) to the prefetch timeout and past it (fetches needed)."""
FETCH_SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REFUSAL_OUTCOMES = {
    400: "invalid-request",
    404: "unknown-service",
    412: "prefetch-unavailable",
    502: "fhir-server-error",
}
UNKNOWN_SERVICE = "unknown"
"""The ``service`` label of calls to an id no service has: caller-chosen ids never become label values."""


@dataclass
class HookCallMeter:
    """Set ``outcome`` when the call answers; a refusal or a failure sets it on the way out."""

    outcome: str = "error"


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._hook_seconds = Histogram(
            "stratcare_hook_duration_seconds",
            "Time to answer a CDS Hooks service call, refusals included, by service.",
            ["service"],
            buckets=HOOK_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self._hook_outcomes = Counter(
            "stratcare_hook_outcomes",
            "CDS Hooks service calls by service and outcome: cards, no-cards, invalid-request, "
            "unknown-service, prefetch-unavailable, fhir-server-error or error.",
            ["service", "outcome"],
            registry=self.registry,
        )
        self._fetch_seconds = Histogram(
            "stratcare_prefetch_fetch_duration_seconds",
            "Time until the EHR's FHIR server answered one prefetch request (or failed).",
            buckets=FETCH_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self._fetches = Counter(
            "stratcare_prefetch_fetches",
            "Requests made to EHR FHIR servers to complete a prefetch, by outcome: the status class "
            "(2xx, 3xx, 4xx, 5xx), timeout or error (no answer).",
            ["outcome"],
            registry=self.registry,
        )

    def observe_hook(self, service: str, outcome: str, seconds: float) -> None:
        self._hook_seconds.labels(service=service).observe(seconds)
        self._hook_outcomes.labels(service=service, outcome=outcome).inc()

    @contextmanager
    def hook_call(self, service: str) -> Iterator[HookCallMeter]:
        """Time the block as one call to ``service``; its error, if any, is its outcome."""
        meter = HookCallMeter()
        started = time.perf_counter()
        try:
            yield meter
        except StratcareError as error:
            meter.outcome = REFUSAL_OUTCOMES.get(error.status_code, "error")
            raise
        except BaseException:
            meter.outcome = "error"
            raise
        finally:
            self.observe_hook(service, meter.outcome, time.perf_counter() - started)

    def observe_fetch(self, outcome: str, seconds: float) -> None:
        self._fetch_seconds.observe(seconds)
        self._fetches.labels(outcome=outcome).inc()

    def exposition(self) -> str:
        """Every metric in the Prometheus text exposition format (version 0.0.4)."""
        return generate_latest(self.registry).decode("utf-8")
